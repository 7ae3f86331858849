$TTL 3600
@ IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300
  IN NS ns1
  IN NS ns2
  IN MX 10 mail
  IN A 192.0.2.1
  IN AAAA 2001:db8::1
  IN TXT "v=spf1 -all"
  IN CAA 0 issue "letsencrypt.org"
ns1 IN A 192.0.2.53
ns2 IN A 192.0.2.54
mail IN A 192.0.2.25
www IN CNAME @
_sip._udp IN SRV 10 60 5060 sip
sip IN A 192.0.2.60
; This is a key-signing key, keyid 20101, for example.com.
; Created: 20261126063756 (Thu Nov 26 06:37:56 2026)
; Publish: 20261126063756 (Thu Nov 26 06:37:56 2026)
; Activate: 20261126063756 (Thu Nov 26 06:37:56 2026)
example.com. IN DNSKEY 257 3 13 zATzBs4RRWrOP9mqbabG6lSuUDolrnmIly9OLFBpOlUVNxIDMp+x7kIS ckn53ADvXKpC0RNjfxuKQJF91lkIOA==
; This is a zone-signing key, keyid 52678, for example.com.
; Created: 20261126063756 (Thu Nov 26 06:37:56 2026)
; Publish: 20261126063756 (Thu Nov 26 06:37:56 2026)
; Activate: 20261126063756 (Thu Nov 26 06:37:56 2026)
example.com. IN DNSKEY 256 3 13 AFX9E73TyMTN463/5oimiUgSPCsourt8FVEOUY4HSLURYgVQKZ35jt1u gbVZMeqJjrWLDveGdDSHFXvwdST/hg==

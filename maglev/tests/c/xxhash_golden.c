/*
 * Golden-vector harness for the `maglev` crate: prints `key hash` pairs
 * computed by VPP's own clib_xxhash (vppinfra/xxhash.h), so the Rust port
 * can be checked against the C original.
 *
 * Build (VPP source tree at $VPP_SRC):
 *   gcc -O2 -I "$VPP_SRC/src" -o xxhash_golden xxhash_golden.c
 *
 * Output, one line per key, lower-case hex, 16 digits:
 *   <key> <hash>               for plain keys
 *   <key> <hash> <address>     for backend addresses; key = w0 ^ w1 where
 *                              w0/w1 are the two native-endian 64-bit
 *                              words of the 16-byte ip46 address (IPv4 in
 *                              the last 4 bytes after 12 zero bytes)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <vppinfra/types.h>
#include <vppinfra/xxhash.h>

static void
emit (u64 key)
{
  printf ("%016llx %016llx\n", (unsigned long long) key,
	  (unsigned long long) clib_xxhash (key));
}

static int
emit_addr (const char *text)
{
  unsigned char ip46[16];
  u64 w[2];

  memset (ip46, 0, sizeof (ip46));
  if (strchr (text, ':'))
    {
      if (inet_pton (AF_INET6, text, ip46) != 1)
	return 1;
    }
  else if (inet_pton (AF_INET, text, ip46 + 12) != 1)
    return 1;
  memcpy (w, ip46, sizeof (w));
  printf ("%016llx %016llx %s\n", (unsigned long long) (w[0] ^ w[1]),
	  (unsigned long long) clib_xxhash (w[0] ^ w[1]), text);
  return 0;
}

int
main (void)
{
  static const char *addrs[] = {
    "2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3", "2001:db8:1::4",
    "2001:db8::ff",  "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    "fe80::1",	     "::",	      "::1",	       "192.0.2.10",
    "192.0.2.1",     "10.0.0.1",      "0.0.0.0",       "255.255.255.255",
  };
  u64 x = 0x5eed;
  unsigned i;

  emit (0);
  emit (1);
  emit (~0ULL);
  for (i = 1; i < 64; i++)
    emit (1ULL << i);
  /* Knuth's MMIX LCG, 300 keys. */
  for (i = 0; i < 300; i++)
    {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      emit (x);
    }
  for (i = 0; i < sizeof (addrs) / sizeof (addrs[0]); i++)
    if (emit_addr (addrs[i]))
      return 1;
  return 0;
}

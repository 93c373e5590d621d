// Package hashes recognises legacy password hashes, converts them to the form
// Auth0's bulk import accepts (password_hash or custom_password_hash), and
// verifies a plaintext against that converted form exactly as Auth0 would at
// login. Verification backs the credential canaries run before an upload and
// the sandbox tenant's password grant.
//
// # Converting
//
// [Convert] takes one row's password columns ([Input]) and returns a
// [Result]. It only parses and re-encodes, never derives a key, so it costs
// about a microsecond per row. The forms it recognises:
//
//	bcrypt $2a$/$2b$ cost 10         password_hash, unchanged
//	bcrypt $2y$, other costs, or     custom bcrypt (with the password_salt
//	  any bcrypt with password_salt    column as salt, prefix or suffix)
//	bcrypt $2x$, $2$                 error: Auth0 rejects them
//	Django bcrypt$$2b$…              custom bcrypt
//	argon2i, argon2id (PHC, v=19)    custom argon2, PHC re-written canonically
//	Django argon2$argon2id$…         custom argon2
//	PHC $pbkdf2-<digest>$i=,l=$…     custom pbkdf2 in Auth0's PHC form:
//	passlib $pbkdf2[-sha256|-sha512]$  $pbkdf2-<digest>$i=N,l=L$<salt>$<hash>,
//	Django pbkdf2_sha256$, _sha1$      salt and hash in unpadded standard
//	Werkzeug pbkdf2:<digest>:<n>$      base64, l the hash's length
//	Atlassian {PKCS5S2}
//	RFC 2307 {MD5} {SMD5} {SHA}      custom ldap, scheme upper-cased, value
//	  {SSHA} {SHA256} {SSHA256}        re-encoded as padded base64
//	  {SHA384} {SSHA384} {SHA512}
//	  {SSHA512} (also as LDIF base64)
//	passlib $scrypt$ln=,r=,p=$…      custom scrypt with keylen, cost,
//	Django scrypt$N$salt$r$p$…         blockSize and parallelization
//	Werkzeug scrypt:N:r:p$…
//	Django md5$salt$hex, sha1$…      custom md5/sha1 with prefix salt
//	Werkzeug sha256$salt$hex, …      custom hmac keyed with the salt
//	hex or base64 md4, md5, sha1,    that algorithm, with salt and position
//	  sha256, sha512 digests           from the columns; sha384 through
//	                                   ldap {SHA384}/{SSHA384}
//
// Bare digests are described by the password_algorithm, password_encoding,
// password_salt and salt_position columns. Without password_algorithm the
// algorithm is inferred from the digest's length where that is unambiguous
// (20 bytes sha1, 32 sha256, 48 sha384, 64 sha512); 16 bytes could be md4 or
// md5, so md5 is assumed with a warning to prove it with a canary. Without
// password_encoding, hex of the right length wins, then base64 (standard or
// url-safe, padded or not) of the right length. The password_salt column is
// always text (salt.encoding utf8); a salt stored as hex or base64 bytes needs
// a JSON source with a ready-made custom_password_hash.
//
// Forms Auth0 cannot import are not errors: the Result has Importable false
// and a stable Family, and those users must reset their password or be
// migrated lazily. They are md5-crypt ($1$), apr1, sha256-crypt ($5$),
// sha512-crypt ($6$), phpass ($P$, $H$), drupal7 ($S$), yescrypt ($y$, $gy$),
// scrypt-crypt ($7$), sha1-crypt, sun-md5-crypt, des-crypt, nt-hash ($3$),
// bcrypt-sha256 (passlib's and Django's pre-hashed bcrypt), argon2d,
// argon2-v16, ldap-crypt ({CRYPT}), ldap-other, mysql-native (*<40 hex>),
// pbkdf2-unsupported-digest, sha224, sha224-salted, sha384-salted,
// sha384-prefix-salt, and unknown.
//
// # Checking ready-made objects
//
// [CheckCustom] applies Auth0's per-algorithm rules to a custom_password_hash
// a source supplied itself, and also rejects objects Auth0 would take but no
// password could ever match (a digest of the wrong length, an l that
// disagrees with the pbkdf2 hash, a salt that fills bcrypt's input).
//
// # Verifying
//
// [Verify] implements all eleven of Auth0's algorithms (argon2, bcrypt, hmac,
// ldap, md4, md5, sha1, sha256, sha512, pbkdf2, scrypt) with the standard
// library, golang.org/x/crypto and, for Whirlpool, internal/whirlpool. It
// honours hash, salt and key encodings, salt position, the password encoding
// (transcoded from the typed UTF-8 the way Node.js Buffer does), scrypt's
// defaults, and bcrypt's 72-byte limit counted with the salt; it compares in
// constant time. Parameters far beyond any real system (bcrypt cost above 18,
// argon2 above 1 GiB, …) are refused rather than computed.
//
// Errors and warnings never contain a hash, salt or key.
package hashes

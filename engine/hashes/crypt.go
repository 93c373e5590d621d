package hashes

import "strings"

// unimportablePrefixes are self-describing forms Auth0 has no algorithm
// for. Their users keep their passwords only through automatic migration;
// otherwise they must reset them.
var unimportablePrefixes = []struct{ prefix, family string }{
	{"$1$", "md5-crypt"},
	{"$apr1$", "apr1"},
	{"$5$", "sha256-crypt"},
	{"$6$", "sha512-crypt"},
	{"$P$", "phpass"},
	{"$H$", "phpass"},
	{"$y$", "yescrypt"},
	{"$gy$", "yescrypt"},
	{"$7$", "scrypt-crypt"},
	{"$sha1$", "sha1-crypt"},
	{"$md5$", "sun-md5-crypt"},
	{"$md5,", "sun-md5-crypt"},
	{"$bcrypt-sha256$", "bcrypt-sha256"}, // passlib: bcrypt of an HMAC-SHA256 of the password
	{"bcrypt_sha256$", "bcrypt-sha256"},  // Django: bcrypt of hex SHA-256 of the password
	{"$S$", "drupal7"},
	{"$3$", "nt-hash"},
}

// recogniseUnimportable names a self-describing form Auth0 cannot import.
func recogniseUnimportable(h string) (Result, bool) {
	for _, u := range unimportablePrefixes {
		if strings.HasPrefix(h, u.prefix) {
			return notImportable(u.family, u.family), true
		}
	}
	// MySQL 4.1+ PASSWORD(): '*' and 40 hex digits of SHA1(SHA1(password)).
	if len(h) == 41 && h[0] == '*' && isHex(h[1:]) {
		return notImportable("mysql-native", "mysql-native"), true
	}
	return Result{}, false
}

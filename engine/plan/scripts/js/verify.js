  // ---- Password check: the legacy store's hash formats -------------------
  // Node's crypto does the digests, PBKDF2 and scrypt; bcrypt and Argon2
  // come from the bcrypt and argon2 modules, required only when a user's
  // hash needs them. Resolves true or false; rejects for a hash this script
  // cannot check, so that it shows in the tenant logs instead of looking
  // like a wrong password.
  var ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

  function checkPassword(password, row) {
    var stored = row.password_hash == null ? '' : String(row.password_hash).trim();
    var d = {
      algorithm: String(row.password_algorithm || HASH_DEFAULTS.algorithm || '').trim().toLowerCase().replace(/^sha-/, 'sha'),
      salt: row.password_salt != null && row.password_salt !== '' ? String(row.password_salt) : (HASH_DEFAULTS.salt || ''),
      position: String(row.salt_position || HASH_DEFAULTS.salt_position || 'prefix').trim().toLowerCase(),
      encoding: String(row.password_encoding || HASH_DEFAULTS.encoding || '').trim().toLowerCase()
    };
    if (stored === '') return Promise.resolve(false); // no password: the user must reset it
    return Promise.resolve().then(function () { return checkHash(password, stored, d); });
  }

  async function checkHash(password, h, d) {
    var m;
    if (/^bcrypt\$\$2/.test(h)) h = h.slice(7); // Django's prefixes
    if (/^argon2\$argon2/.test(h)) h = h.slice(6);
    if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(h)) {
      // $2a$, $2b$ and $2y$ are one algorithm; the bcrypt module reads $2b$.
      return require('bcrypt').compare(salted(password, d), '$2b$' + h.slice(4));
    }
    if (/^\$argon2(id|i)\$v=19\$/.test(h)) return require('argon2').verify(h, password);
    if ((m = /^\$pbkdf2(?:-(sha256|sha512))?\$(\d+)\$([./A-Za-z0-9]*)\$([./A-Za-z0-9]+)$/.exec(h))) {
      // passlib: rounds, then salt and key in its "ab64" base64
      return pbkdf2Equal(password, ab64(m[3]), +m[2], ab64(m[4]), m[1] || 'sha1');
    }
    if ((m = /^\$pbkdf2-([A-Za-z0-9-]+)\$(?:i=(\d+),l=\d+\$)?([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(h))) {
      // PHC, as Auth0 imports it: i defaults to 100000
      return pbkdf2Equal(password, b64(m[3]), m[2] ? +m[2] : 100000, b64(m[4]), digestName(m[1]));
    }
    if ((m = /^pbkdf2_(sha1|sha256)\$(\d+)\$([^$]*)\$([A-Za-z0-9+/=]+)$/.exec(h))) { // Django
      return pbkdf2Equal(password, Buffer.from(m[3], 'utf8'), +m[2], b64(m[4]), m[1]);
    }
    if ((m = /^pbkdf2:([a-z0-9_]+):(\d+)\$([^$]*)\$([0-9a-f]+)$/.exec(h))) { // Werkzeug
      return pbkdf2Equal(password, Buffer.from(m[3], 'utf8'), +m[2], Buffer.from(m[4], 'hex'), m[1].replace(/_/g, '-'));
    }
    if ((m = /^\{PKCS5S2\}([A-Za-z0-9+/=]+)$/.exec(h))) { // Atlassian
      var raw = b64(m[1]);
      return pbkdf2Equal(password, raw.subarray(0, 16), 10000, raw.subarray(16), 'sha1');
    }
    if ((m = /^\{(S?)(SHA|SHA256|SHA384|SHA512|MD5)\}([A-Za-z0-9+/=]+)$/i.exec(h))) { // LDAP, RFC 2307
      var alg = m[2].toLowerCase() === 'sha' ? 'sha1' : m[2].toLowerCase();
      var all = b64(m[3]), size = crypto.createHash(alg).digest().length;
      var salt = m[1] ? all.subarray(size) : Buffer.alloc(0);
      return equal(crypto.createHash(alg).update(password, 'utf8').update(salt).digest(), all.subarray(0, size));
    }
    if ((m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]*)\$([^$]+)$/.exec(h))) { // passlib
      return scryptEqual(password, ab64(m[4]), 1 << +m[1], +m[2], +m[3], ab64(m[5]));
    }
    if ((m = /^scrypt\$(\d+)\$([^$]*)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)$/.exec(h))) { // Django
      return scryptEqual(password, Buffer.from(m[2], 'utf8'), +m[1], +m[3], +m[4], b64(m[5]));
    }
    if ((m = /^scrypt:(\d+):(\d+):(\d+)\$([^$]*)\$([0-9a-f]+)$/.exec(h))) { // Werkzeug
      return scryptEqual(password, Buffer.from(m[4], 'utf8'), +m[1], +m[2], +m[3], Buffer.from(m[5], 'hex'));
    }
    if ((m = /^\$(1|apr1)\$([^$]{0,8})\$[./A-Za-z0-9]{22}$/.exec(h))) return same(md5Crypt(password, m[2], '$' + m[1] + '$'), h);
    if ((m = /^\$([56])\$(rounds=(\d+)\$)?([^$]{0,16})\$[./A-Za-z0-9]+$/.exec(h))) {
      return same(shaCrypt(password, m[4], m[3] ? +m[3] : null, m[1] === '5' ? 'sha256' : 'sha512'), h);
    }
    if (/^\$[PH]\$[./A-Za-z0-9]{31}$/.test(h)) return same(phpass(password, h, 'md5', 34), h); // phpass (WordPress, phpBB)
    if (/^\$S\$[./A-Za-z0-9]{52}$/.test(h)) return same(phpass(password, h, 'sha512', 55), h); // Drupal 7
    if (/^\*[0-9A-Fa-f]{40}$/.test(h)) { // MySQL 4.1+ PASSWORD()
      var inner = crypto.createHash('sha1').update(password, 'utf8').digest();
      return same('*' + crypto.createHash('sha1').update(inner).digest('hex').toUpperCase(), h.toUpperCase());
    }
    if ((m = /^(md5|sha1|sha224|sha256|sha384|sha512)\$([^$]*)\$([0-9a-f]+)$/.exec(h))) {
      if (d.algorithm !== 'hmac' && (m[1] === 'md5' || m[1] === 'sha1')) { // Django: digest(salt + password)
        return equal(crypto.createHash(m[1]).update(m[2], 'utf8').update(password, 'utf8').digest(), Buffer.from(m[3], 'hex'));
      }
      // Werkzeug: HMAC keyed with the salt
      return equal(crypto.createHmac(m[1], m[2]).update(password, 'utf8').digest(), Buffer.from(m[3], 'hex'));
    }
    if (d.algorithm === 'scrypt') {
      var key = decode(h, d.encoding);
      return scryptEqual(password, Buffer.from(d.salt, 'utf8'), 16384, 8, 1, key);
    }
    var digest = d.algorithm || digestByLength(h, d.encoding);
    if (['md4', 'md5', 'sha1', 'sha256', 'sha512'].indexOf(digest) >= 0) {
      return equal(crypto.createHash(digest).update(salted(password, d), 'utf8').digest(), decode(h, d.encoding));
    }
    throw new Error('the password hash of this user is in a form this script cannot check; reset the password, or add its format to the script');
  }

  function salted(password, d) {
    if (!d.salt) return password;
    return d.position === 'suffix' ? password + d.salt : d.salt + password;
  }

  function pbkdf2Equal(password, salt, iterations, want, digest) {
    return new Promise(function (resolve, reject) {
      crypto.pbkdf2(password, salt, iterations, want.length, digest, function (err, key) {
        if (err) return reject(err);
        resolve(equal(key, want));
      });
    });
  }

  function scryptEqual(password, salt, N, r, p, want) {
    return new Promise(function (resolve, reject) {
      // Node refuses more than 32 MiB by default; passlib's own default (ln=16) needs 64 MiB.
      crypto.scrypt(password, salt, want.length, { N: N, r: r, p: p, maxmem: 256 * N * r + (1 << 20) }, function (err, key) {
        if (err) return reject(err);
        resolve(equal(key, want));
      });
    });
  }

  function digestName(name) {
    var n = name.toLowerCase();
    return n === 'rsa-sha1' ? 'sha1' : n;
  }

  function digestByLength(h, encoding) {
    var size = decode(h, encoding).length;
    return { 16: 'md5', 20: 'sha1', 32: 'sha256', 64: 'sha512' }[size] || '';
  }

  function decode(s, encoding) {
    if (encoding === 'hex' || (encoding !== 'base64' && /^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0)) return Buffer.from(s, 'hex');
    return b64(s);
  }

  function b64(s) { return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'); }
  function ab64(s) { return Buffer.from(s.replace(/\./g, '+'), 'base64'); }

  function equal(a, b) { return a.length === b.length && a.length > 0 && crypto.timingSafeEqual(a, b); }
  function same(a, b) { return equal(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')); }

  function to64(v, n) {
    var s = '';
    while (n-- > 0) { s += ITOA64[v & 0x3f]; v >>>= 6; }
    return s;
  }

  // md5-crypt ($1$) and Apache's apr1, as in FreeBSD's crypt(3).
  function md5Crypt(password, salt, magic) {
    var pw = Buffer.from(password, 'utf8'), s = Buffer.from(salt, 'utf8');
    var alt = crypto.createHash('md5').update(pw).update(s).update(pw).digest();
    var ctx = crypto.createHash('md5').update(pw).update(magic).update(s);
    for (var i = pw.length; i > 0; i -= 16) ctx.update(alt.subarray(0, Math.min(16, i)));
    for (i = pw.length; i > 0; i >>= 1) ctx.update((i & 1) ? Buffer.alloc(1) : pw.subarray(0, 1));
    var fin = ctx.digest();
    for (i = 0; i < 1000; i++) {
      var c = crypto.createHash('md5');
      c.update((i & 1) ? pw : fin);
      if (i % 3) c.update(s);
      if (i % 7) c.update(pw);
      c.update((i & 1) ? fin : pw);
      fin = c.digest();
    }
    var out = '';
    [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]].forEach(function (t) {
      out += to64((fin[t[0]] << 16) | (fin[t[1]] << 8) | fin[t[2]], 4);
    });
    return magic + salt + '$' + out + to64(fin[11], 2);
  }

  // sha256-crypt ($5$) and sha512-crypt ($6$), Ulrich Drepper's specification.
  function shaCrypt(password, salt, rounds, alg) {
    var P = Buffer.from(password, 'utf8'), S = Buffer.from(salt, 'utf8');
    var n = rounds == null ? 5000 : Math.min(Math.max(rounds, 1000), 999999999);
    var H = function () { return crypto.createHash(alg); };
    var B = H().update(P).update(S).update(P).digest(), size = B.length;
    var a = H().update(P).update(S), i;
    for (i = P.length; i > size; i -= size) a.update(B);
    a.update(B.subarray(0, i));
    for (i = P.length; i > 0; i >>= 1) a.update((i & 1) ? B : P);
    var A = a.digest();
    var dp = H();
    for (i = 0; i < P.length; i++) dp.update(P);
    var DP = dp.digest(), Pseq = Buffer.alloc(P.length);
    for (i = 0; i < P.length; i++) Pseq[i] = DP[i % size];
    var ds = H();
    for (i = 0; i < 16 + A[0]; i++) ds.update(S);
    var DS = ds.digest(), Sseq = Buffer.alloc(S.length);
    for (i = 0; i < S.length; i++) Sseq[i] = DS[i % size];
    for (i = 0; i < n; i++) {
      var c = H();
      c.update((i & 1) ? Pseq : A);
      if (i % 3) c.update(Sseq);
      if (i % 7) c.update(Pseq);
      c.update((i & 1) ? A : Pseq);
      A = c.digest();
    }
    var order = alg === 'sha256'
      ? [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]]
      : [[0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10],
        [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41]];
    var out = '';
    order.forEach(function (t) { out += to64((A[t[0]] << 16) | (A[t[1]] << 8) | A[t[2]], 4); });
    out += alg === 'sha256' ? to64((A[31] << 8) | A[30], 3) : to64(A[63], 2);
    return '$' + (alg === 'sha256' ? '5' : '6') + '$' + (rounds == null ? '' : 'rounds=' + n + '$') + salt + '$' + out;
  }

  // phpass portable hashes ($P$, $H$) and Drupal 7 ($S$): an iterated
  // digest of salt and password.
  function phpass(password, setting, alg, length) {
    var count = 1 << ITOA64.indexOf(setting[3]);
    var salt = setting.slice(4, 12), pw = Buffer.from(password, 'utf8');
    var hash = crypto.createHash(alg).update(salt, 'utf8').update(pw).digest();
    do { hash = crypto.createHash(alg).update(hash).update(pw).digest(); } while (--count);
    var out = '', i = 0;
    while (i < hash.length) {
      var v = hash[i++];
      out += ITOA64[v & 0x3f];
      if (i < hash.length) v |= hash[i] << 8;
      out += ITOA64[(v >> 6) & 0x3f];
      if (i++ >= hash.length) break;
      if (i < hash.length) v |= hash[i] << 16;
      out += ITOA64[(v >> 12) & 0x3f];
      if (i++ >= hash.length) break;
      out += ITOA64[(v >> 18) & 0x3f];
    }
    return (setting.slice(0, 12) + out).slice(0, length);
  }

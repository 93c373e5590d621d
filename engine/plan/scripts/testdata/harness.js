// Runs custom database scripts the way Auth0's sandbox does, against an
// in-memory legacy table, and reports how each called its callback.
//
// Input (stdin): {"cases": [{name, script, fn, args, dialect, table, rows,
// known, url, dbDown}]}. Output (stdout): one result per case: the
// callback's calls, the error or value of the first call, the statements
// run, the table afterwards, and the connections opened and closed.
//
// The pg and mysql modules are stubs that understand exactly the statements
// the scripts send (SELECT, INSERT, UPDATE, DELETE with = and lower(=)
// conditions), and fail any statement that carries a parameter's value in
// its text. bcrypt and argon2 are stubs too: verifying those hashes is the
// libraries' job, so the stubs answer from a table of known hashes.
'use strict';
const vm = require('vm');
const crypto = require('crypto');

class WrongUsernameOrPasswordError extends Error {
  constructor(userNameOrEmail, message) { super(message); this.name = 'WrongUsernameOrPasswordError'; this.userNameOrEmail = userNameOrEmail; }
}
class ValidationError extends Error {
  constructor(code, message) { super(message); this.name = 'ValidationError'; this.code = code; }
}

function unquote(s) { return s.replace(/^["`]|["`]$/g, ''); }

function database(c, state) {
  const rows = c.rows;
  let nextID = 1 + rows.reduce((m, r) => Math.max(m, +r.id || 0), 0);
  function exec(text, values) {
    state.queries.push({ text: text, values: values });
    // The scripts' SQL has no literals: a quote, or a parameter's value,
    // in the text would be a value pasted into it.
    if (text.includes("'")) throw new Error('a literal inside the SQL text: ' + text);
    for (const v of values) {
      if (typeof v === 'string' && v.length >= 8 && text.includes(v)) throw new Error('a value inside the SQL text: ' + text);
    }
    let next = 0; // ? placeholders are positional
    const param = (p) => (p === '?' ? values[next++] : values[+p.slice(1) - 1]);
    const table = (t) => { if (t !== c.table) throw new Error('unexpected table ' + t + ', want ' + c.table); };
    const where = (w) => w.split(' OR ').map((cond) => {
      let m = /^lower\((\S+)\) = lower\((\$\d+|\?)\)$/.exec(cond);
      if (m) { const col = unquote(m[1]), v = String(param(m[2])).toLowerCase(); return (r) => r[col] != null && String(r[col]).toLowerCase() === v; }
      m = /^(\S+) = (\$\d+|\?)$/.exec(cond);
      if (m) { const col = unquote(m[1]), v = param(m[2]); return (r) => r[col] != null && String(r[col]) === String(v); }
      throw new Error('unexpected condition: ' + cond);
    });
    const matches = (preds) => (r) => preds.some((p) => p(r));
    let m;
    if ((m = /^SELECT (.+) FROM (\S+) WHERE (.+)$/.exec(text))) {
      const cols = m[1].split(', ').map((item) => item.split(' AS ').map(unquote));
      table(unquote(m[2]).replace(/["`]/g, ''));
      const hit = rows.filter(matches(where(m[3])));
      return { select: true, rows: hit.map((r) => Object.fromEntries(cols.map(([col, as]) => [as, r[col] === undefined ? null : r[col]]))) };
    }
    if ((m = /^INSERT INTO (\S+) \((.+)\) VALUES \((.+)\)$/.exec(text))) {
      table(m[1].replace(/["`]/g, ''));
      const cols = m[2].split(', ').map(unquote), ps = m[3].split(', ').map(param);
      const row = { id: nextID++ };
      cols.forEach((col, i) => { row[col] = ps[i]; });
      if (rows.some((r) => String(r.email).toLowerCase() === String(row.email).toLowerCase())) {
        const e = new Error('duplicate key value violates unique constraint'); e.code = c.dialect === 'mysql' ? 'ER_DUP_ENTRY' : '23505'; throw e;
      }
      rows.push(row);
      return { count: 1 };
    }
    if ((m = /^UPDATE (\S+) SET (.+) WHERE (.+)$/.exec(text))) {
      table(m[1].replace(/["`]/g, ''));
      const sets = m[2].split(', ').map((s) => { const [col, p] = s.split(' = '); return [unquote(col), p === 'NULL' ? null : param(p)]; });
      const hit = rows.filter(matches(where(m[3])));
      hit.forEach((r) => sets.forEach(([col, v]) => { r[col] = v; }));
      return { count: hit.length };
    }
    if ((m = /^DELETE FROM (\S+) WHERE (.+)$/.exec(text))) {
      table(m[1].replace(/["`]/g, ''));
      const gone = rows.filter(matches(where(m[2])));
      gone.forEach((r) => rows.splice(rows.indexOf(r), 1));
      return { count: gone.length };
    }
    throw new Error('unexpected statement: ' + text);
  }
  const checkURL = (url) => { if (url !== c.url) throw new Error('connected to ' + url + ', want configuration.LEGACY_DB_URL'); };
  return {
    pg: {
      Client: class {
        constructor(opts) { checkURL(opts.connectionString); state.opened++; }
        connect() { return c.dbDown ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve(); }
        query(text, values) { return Promise.resolve().then(() => { const r = exec(text, values); return { rows: r.rows || [], rowCount: r.select ? r.rows.length : r.count }; }); }
        end() { state.closed++; return Promise.resolve(); }
      },
    },
    mysql: {
      createConnection(url) {
        checkURL(url); state.opened++;
        return {
          query(opts, cb) {
            setImmediate(() => {
              if (c.dbDown) return cb(new Error('connect ECONNREFUSED'));
              let r;
              try { r = exec(opts.sql, opts.values); } catch (e) { return cb(e); }
              cb(null, r.select ? r.rows : { affectedRows: r.count });
            });
          },
          end(cb) { state.closed++; if (cb) cb(); },
        };
      },
    },
  };
}

function libraries(c) {
  const known = {};
  const norm = (h) => h.replace(/^\$2[aby]\$/, '$2b$');
  for (const [hash, pw] of Object.entries(c.known || {})) known[norm(hash)] = pw;
  return {
    bcrypt: {
      compare: (pw, hash) => Promise.resolve(known[norm(hash)] === pw),
      hash: (pw, rounds) => {
        const h = '$2b$' + String(rounds).padStart(2, '0') + '$' + crypto.createHash('sha256').update(pw).digest('hex').slice(0, 53);
        known[h] = pw;
        return Promise.resolve(h);
      },
    },
    argon2: { verify: (hash, pw) => Promise.resolve(known[hash] === pw) },
  };
}

function errorJSON(e) {
  if (e == null) return null;
  return { name: e.name, message: String(e.message), code: e.code, userNameOrEmail: e.userNameOrEmail };
}

// run starts one case. Its result is read once the event loop has nothing
// left to do: by then every callback the script will ever call has been
// called, so "never" and "twice" are facts, not timeouts.
function run(c) {
  const state = { queries: [], opened: 0, closed: 0 };
  const db = database(c, state), libs = libraries(c);
  const modules = { crypto: crypto, pg: db.pg, mysql: db.mysql, bcrypt: libs.bcrypt, argon2: libs.argon2 };
  const context = vm.createContext({
    require: (name) => { if (!(name in modules)) throw new Error('module not in the sandbox: ' + name); return modules[name]; },
    configuration: { LEGACY_DB_URL: c.url },
    WrongUsernameOrPasswordError, ValidationError, Buffer, console, setTimeout, setImmediate,
  });
  const fn = vm.runInContext(c.script + '\n;' + c.fn, context);
  const calls = [];
  fn(...c.args, function () { calls.push(Array.from(arguments)); });
  return function result() {
    const first = calls[0] || [];
    return {
      name: c.name, calls: calls.length, args: first.length,
      error: errorJSON(first[0]), value: first.length > 1 ? first[1] : undefined,
      queries: state.queries, rows: c.rows, opened: state.opened, closed: state.closed,
    };
  };
}

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  // Cases are independent (each has its own table), so they run at once.
  const results = JSON.parse(input).cases.map((c) => {
    try { return run(c); } catch (e) { return () => ({ name: c.name, harnessError: String((e && e.stack) || e) }); }
  });
  process.once('beforeExit', () => { process.stdout.write(JSON.stringify(results.map((r) => r()))); });
});

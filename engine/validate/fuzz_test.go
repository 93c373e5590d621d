package validate

import (
	"testing"

	"provision/engine/importuser"
	"provision/engine/source"
)

// FuzzCheck: no input panics, and whatever Check accepts, Auth0's import
// schema accepts too.
func FuzzCheck(f *testing.F) {
	f.Add("ana@example.com", "ana", "u1", "true", "+12125550100", `{"plan":"gold"}`, "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "", "")
	f.Add("Bob@Example.COM", "", "auth0|x", "no", "", `{"blocked":true}`, "5f4dcc3b5aa765d61d8327deb882cf99", "md5", "salt")
	f.Add("bad", "a b", " ", "maybe", "(212)", "{", "{SSHA}abc", "", "")
	f.Add("z@z.zz", "z", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, email, username, userID, verified, phone, meta, hash, alg, salt string) {
		v := New(Options{MaxUserBytes: 500_000})
		res := v.Check(source.Row{Line: 2, Email: email, Username: username, UserID: userID, EmailVerified: verified,
			PhoneNumber: phone, AppMetadata: meta, UserMetadata: meta, PasswordHash: hash, PasswordAlgorithm: alg, PasswordSalt: salt})
		if res.Quarantined {
			if len(res.Findings) == 0 {
				t.Fatal("quarantined without a finding")
			}
			return
		}
		if err := importuser.ValidateUserJSON(res.JSON); err != nil {
			t.Fatalf("Check accepted a user Auth0's schema rejects: %v\n%s", err, res.JSON)
		}
	})
}

package sandbox_test

import (
	"fmt"
	"testing"

	"provision/engine/importuser"
	"provision/engine/sandbox"
)

// BenchmarkImport1000Users measures how fast the tenant applies one
// full-size import file (about 1,000 users, as Auth0 sizes them): schema,
// profile rules, duplicate checks and writes.
func BenchmarkImport1000Users(b *testing.B) {
	for _, dataDir := range []string{"", "bolt"} {
		name := "memory"
		if dataDir != "" {
			name = "bolt"
		}
		b.Run(name, func(b *testing.B) {
			users := make([]importuser.User, 1000)
			for i := range users {
				users[i] = importuser.User{
					Email: fmt.Sprintf("user%04d@example.com", i), GivenName: "Given", FamilyName: "Family",
					PasswordHash: "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
				}
			}
			for b.Loop() {
				b.StopTimer()
				cfg := sandbox.Config{}
				if dataDir != "" {
					cfg.DataDir = b.TempDir()
				}
				srv, err := sandbox.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if s, _, err := srv.Import(false, users...); err != nil || s.Inserted != len(users) {
					b.Fatalf("%+v %v", s, err)
				}
				b.StopTimer()
				srv.Close()
				b.StartTimer()
			}
		})
	}
}

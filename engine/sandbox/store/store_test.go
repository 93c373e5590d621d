package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eachStore runs a test against both implementations: the sandbox relies
// on them behaving identically.
func eachStore(t *testing.T, test func(t *testing.T, s Store)) {
	t.Run("memory", func(t *testing.T) {
		s := NewMemory("a", "b")
		defer s.Close()
		test(t, s)
	})
	t.Run("bolt", func(t *testing.T) {
		s, err := OpenBolt(filepath.Join(t.TempDir(), "state.db"), "a", "b")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		test(t, s)
	})
}

func TestUpdateIsAtomic(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		if err := s.Update(func(tx Tx) error { return tx.Put("a", "k", []byte("v1")) }); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := s.Update(func(tx Tx) error {
			if err := tx.Put("a", "k", []byte("v2")); err != nil {
				return err
			}
			if err := tx.Put("b", "other", []byte("x")); err != nil {
				return err
			}
			if got := string(tx.Get("a", "k")); got != "v2" {
				t.Errorf("read own write = %q, want v2", got)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update error = %v, want boom", err)
		}
		s.View(func(tx Tx) error {
			if got := string(tx.Get("a", "k")); got != "v1" {
				t.Errorf("after rollback a/k = %q, want v1", got)
			}
			if got := tx.Get("b", "other"); got != nil {
				t.Errorf("after rollback b/other = %q, want absent", got)
			}
			return nil
		})
	})
}

func TestForEachOrderAndOverlay(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		s.Update(func(tx Tx) error {
			for _, k := range []string{"c", "a", "b"} {
				tx.Put("a", k, []byte(k))
			}
			return nil
		})
		var seen []string
		s.Update(func(tx Tx) error {
			tx.Delete("a", "b")
			tx.Put("a", "d", []byte("d"))
			tx.Put("a", "a", []byte("A"))
			return tx.ForEach("a", func(k string, v []byte) error {
				seen = append(seen, k+"="+string(v))
				return nil
			})
		})
		if got, want := strings.Join(seen, ","), "a=A,c=c,d=d"; got != want {
			t.Errorf("ForEach saw %s, want %s", got, want)
		}
	})
}

func TestViewIsReadOnlyAndBucketsAreChecked(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		err := s.View(func(tx Tx) error { return tx.Put("a", "k", nil) })
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("Put in View = %v, want ErrReadOnly", err)
		}
		err = s.Update(func(tx Tx) error { return tx.Put("nope", "k", nil) })
		if err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("Put to unknown bucket = %v, want an error naming it", err)
		}
	})
}

func TestGetReturnsACopy(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		s.Update(func(tx Tx) error { return tx.Put("a", "k", []byte("value")) })
		var got []byte
		s.View(func(tx Tx) error { got = tx.Get("a", "k"); return nil })
		got[0] = 'X'
		s.View(func(tx Tx) error {
			if v := string(tx.Get("a", "k")); v != "value" {
				t.Errorf("stored value changed through a returned slice: %q", v)
			}
			return nil
		})
	})
}

func TestBoltSurvivesReopenAndRefusesASecondOpener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenBolt(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	s.Update(func(tx Tx) error { return tx.Put("a", "k", []byte("kept")) })

	if _, err := OpenBolt(path, "a"); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("second open = %v, want a 'locked by another process' error", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %o, want 600", perm)
	}
	s, err = OpenBolt(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.View(func(tx Tx) error {
		if v := string(tx.Get("a", "k")); v != "kept" {
			t.Errorf("after reopen a/k = %q, want kept", v)
		}
		return nil
	})
}

func TestClosedStoreFails(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		s.Close()
		if err := s.View(func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
			t.Errorf("View after Close = %v, want ErrClosed", err)
		}
	})
}

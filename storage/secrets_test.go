package storage

import (
	"reflect"
	"regexp"
	"testing"
)

// secretName matches field names that would hold credentials or password
// material. The journal must have none: it records what happened to users,
// never how they log in.
var secretName = regexp.MustCompile(`(?i)pass|secret|hash|salt|token|credential|private|key|mfa|otp`)

// TestNoStoredStructHasASecretField walks every type the journal writes
// (and every input that is written as given) down to its leaves.
func TestNoStoredStructHasASecretField(t *testing.T) {
	stored := []any{
		Meta{}, Stage{}, StagePlan{}, Chunk{}, Event{}, LockHolder{},
		userRecord{}, User{}, NewUser{}, Outcome{},
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(typ.Elem(), path)
			return
		case reflect.Map:
			walk(typ.Key(), path)
			walk(typ.Elem(), path)
			return
		case reflect.Struct:
		default:
			return
		}
		if seen[typ] || typ.PkgPath() == "time" {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := path + "." + f.Name
			if secretName.MatchString(f.Name) || secretName.MatchString(f.Tag.Get("json")) {
				t.Errorf("%s looks like it holds a secret; the journal must not store one", name)
			}
			walk(f.Type, name)
		}
	}
	for _, v := range stored {
		typ := reflect.TypeOf(v)
		walk(typ, typ.Name())
	}
	if len(seen) < 12 {
		t.Fatalf("walked only %d types; the walk is broken", len(seen))
	}
}

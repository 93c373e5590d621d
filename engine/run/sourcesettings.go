package run

import (
	"encoding/json"
	"fmt"

	"provision/engine/hashes"
	"provision/engine/source"
	"provision/engine/validate"
)

// SourceSettings are the options that decide how a run reads and
// validates its source: a resume must read every row exactly as the first
// run did, or row numbers would point at other users. The journal records
// them when the run starts; a command resuming a run takes from them what
// its flags leave open (ApplyTo), and the engine refuses any difference.
type SourceSettings struct {
	Format       string            `json:"format,omitempty"`
	Delimiter    string            `json:"delimiter,omitempty"`
	Mapping      map[string]string `json:"mapping,omitempty"`
	UsernameMin  int               `json:"username_min"`
	UsernameMax  int               `json:"username_max"`
	MaxFileBytes int               `json:"max_file_bytes"`
	// The hash defaults, except the salt itself, which may be a secret:
	// only whether there is one is kept.
	HashAlgorithm    string `json:"hash_algorithm,omitempty"`
	HashSalted       bool   `json:"hash_salted,omitempty"`
	HashSaltPosition string `json:"hash_salt_position,omitempty"`
	HashEncoding     string `json:"hash_encoding,omitempty"`
}

// SourceSettingsOf reads the source settings out of engine options.
func SourceSettingsOf(o *Options) SourceSettings {
	ss := SourceSettings{
		Format: string(o.SourceOptions.Format), Mapping: o.SourceOptions.Mapping,
		UsernameMin: o.Validate.Username.Min, UsernameMax: o.Validate.Username.Max, MaxFileBytes: o.MaxFileBytes,
		HashAlgorithm: o.Validate.HashDefaults.Algorithm, HashSalted: o.Validate.HashDefaults.Salt != "",
		HashSaltPosition: o.Validate.HashDefaults.SaltPosition, HashEncoding: o.Validate.HashDefaults.Encoding,
	}
	if o.SourceOptions.Delimiter != 0 {
		ss.Delimiter = string(o.SourceOptions.Delimiter)
	}
	if len(ss.Mapping) == 0 {
		ss.Mapping = nil
	}
	return ss
}

// key is the settings' canonical text: JSON with sorted map keys.
func (ss SourceSettings) key() string {
	b, err := json.Marshal(ss)
	if err != nil {
		panic(fmt.Sprintf("marshal source settings: %v", err)) // plain strings and ints cannot fail
	}
	return string(b)
}

// Source are the settings as source.Open takes them.
func (ss SourceSettings) Source() source.Options {
	o := source.Options{Format: source.Format(ss.Format), Mapping: ss.Mapping}
	if r := []rune(ss.Delimiter); len(r) == 1 {
		o.Delimiter = r[0]
	}
	return o
}

// Validate are the settings as validation takes them; the salt, which the
// journal does not keep, comes from salt.
func (ss SourceSettings) Validate(salt string) validate.Options {
	return validate.Options{
		Username:     validate.UsernamePolicy{Min: ss.UsernameMin, Max: ss.UsernameMax},
		HashDefaults: hashes.Input{Algorithm: ss.HashAlgorithm, Salt: salt, SaltPosition: ss.HashSaltPosition, Encoding: ss.HashEncoding},
	}
}

func parseSourceSettings(text string) (SourceSettings, error) {
	var ss SourceSettings
	if err := json.Unmarshal([]byte(text), &ss); err != nil {
		return ss, fmt.Errorf("the journal's record of its source options is unreadable (%v): restore a backup of the journal", err)
	}
	return ss, nil
}

// describe names the settings for an error message.
func (ss SourceSettings) describe() string {
	d := ss.Delimiter
	if d == "" {
		d = "detected"
	}
	f := ss.Format
	if f == "" {
		f = "detected"
	}
	return fmt.Sprintf("--input-format %s, --delimiter %q, %d --map entries, --username-length %d-%d, --max-file-size %d, hash algorithm %q (salted %t, position %q, encoding %q)",
		f, d, len(ss.Mapping), ss.UsernameMin, ss.UsernameMax, ss.MaxFileBytes, ss.HashAlgorithm, ss.HashSalted, ss.HashSaltPosition, ss.HashEncoding)
}

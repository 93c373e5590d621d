package sandbox

import (
	"bytes"
	"encoding/json"
)

const mask = "*****"

// redactUserJSON returns a file element as job errors show it: as the file
// held it, unknown properties included, with every secret replaced by
// "*****". It masks what importuser.User.Redacted masks; it works on the
// JSON rather than on a decoded User because the element may be one that
// does not decode (the reason it failed) and must still be shown whole.
func redactUserJSON(raw json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers exactly as written
	var user map[string]any
	if err := dec.Decode(&user); err != nil || user == nil {
		return raw // not an object: no fields, so no secrets to mask
	}
	if _, ok := user["password_hash"]; ok {
		user["password_hash"] = mask
	}
	if c, ok := user["custom_password_hash"].(map[string]any); ok {
		if h, ok := c["hash"].(map[string]any); ok {
			maskValue(h)
			if k, ok := h["key"].(map[string]any); ok {
				maskValue(k)
			}
		}
		if s, ok := c["salt"].(map[string]any); ok {
			maskValue(s)
		}
	}
	if _, ok := user["mfa_factors"]; ok {
		user["mfa_factors"] = mask
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(user); err != nil {
		return json.RawMessage(`{}`)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func maskValue(m map[string]any) {
	if _, ok := m["value"]; ok {
		m["value"] = mask
	}
}

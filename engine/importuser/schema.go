package importuser

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaJSON is Auth0's published JSON Schema for one user of an import file.
//
//go:embed schema/users-import.schema.json
var SchemaJSON []byte

const schemaURL = "https://provision.local/users-import.schema.json"

var (
	compileOnce            sync.Once
	userSchema, fileSchema *jsonschema.Schema
	compileErr             error
)

func compile() {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
	if err != nil {
		compileErr = fmt.Errorf("embedded import schema: %w", err)
		return
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // Auth0 rejects a malformed email, so "format" must bite.
	if err := c.AddResource(schemaURL, doc); err != nil {
		compileErr = err
		return
	}
	arrayDoc := map[string]any{"type": "array", "items": map[string]any{"$ref": schemaURL}}
	if err := c.AddResource("https://provision.local/users-import-file.schema.json", arrayDoc); err != nil {
		compileErr = err
		return
	}
	if userSchema, compileErr = c.Compile(schemaURL); compileErr != nil {
		return
	}
	fileSchema, compileErr = c.Compile("https://provision.local/users-import-file.schema.json")
}

// ValidateUserJSON checks one marshalled user against Auth0's schema.
func ValidateUserJSON(doc []byte) error {
	return validate(doc, func() *jsonschema.Schema { return userSchema })
}

// ValidateFileJSON checks a whole import file (a JSON array of users).
func ValidateFileJSON(doc []byte) error {
	return validate(doc, func() *jsonschema.Schema { return fileSchema })
}

// ValidateUser marshals u and checks it against Auth0's schema.
func ValidateUser(u User) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return ValidateUserJSON(b)
}

func validate(doc []byte, schema func() *jsonschema.Schema) error {
	compileOnce.Do(compile)
	if compileErr != nil {
		return compileErr
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return schema().Validate(v)
}

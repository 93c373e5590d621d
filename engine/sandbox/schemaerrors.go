package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"provision/engine/importuser"
)

// schemaErrors checks one element of an import file against Auth0's
// published user schema and translates each failure into the code Auth0's
// job errors use. Auth0 documents the codes, not their wording; messages
// follow the z-schema validator whose codes Auth0's list matches.
func schemaErrors(raw json.RawMessage) []UserError {
	err := importuser.ValidateUserJSON(raw)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []UserError{{Code: "INVALID_TYPE", Message: "The user is not valid JSON: " + err.Error()}}
	}
	var out []UserError
	collectLeaves(ve, &out)
	slices.SortStableFunc(out, func(a, b UserError) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func collectLeaves(ve *jsonschema.ValidationError, out *[]UserError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectLeaves(c, out)
		}
		return
	}
	*out = append(*out, translate(ve)...)
}

func translate(ve *jsonschema.ValidationError) []UserError {
	path := jsonPath(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Type:
		return []UserError{{"INVALID_TYPE", fmt.Sprintf("Expected type %s but found type %s", strings.Join(k.Want, ","), k.Got), path}}
	case *kind.Enum:
		return []UserError{{"ENUM_MISMATCH", "No enum match for: " + display(k.Got), path}}
	case *kind.Format:
		msg := "Object didn't pass validation for format " + k.Want
		if !isSecretPath(path) {
			msg += ": " + plain(k.Got)
		}
		return []UserError{{"FORMAT", msg, path}}
	case *kind.Pattern:
		return []UserError{patternError(path, k.Want, k.Got)}
	case *kind.Required:
		var errs []UserError
		for _, m := range k.Missing {
			errs = append(errs, UserError{"OBJECT_REQUIRED", "Missing required property: " + m, joinPath(path, m)})
		}
		return errs
	case *kind.AdditionalProperties:
		// Not in Auth0's documented list; z-schema's name for it.
		var errs []UserError
		for _, p := range k.Properties {
			errs = append(errs, UserError{"OBJECT_ADDITIONAL_PROPERTIES", "Additional properties not allowed: " + p, joinPath(path, p)})
		}
		return errs
	case *kind.MinItems:
		return []UserError{{"ARRAY_LENGTH_SHORT", fmt.Sprintf("Array is too short (%d), minimum %d", k.Got, k.Want), path}}
	case *kind.MaxItems:
		return []UserError{{"ARRAY_LENGTH_LONG", fmt.Sprintf("Array is too long (%d), maximum %d", k.Got, k.Want), path}}
	case *kind.MaxProperties:
		if strings.HasPrefix(path, "mfa_factors[") {
			return []UserError{mfaFactorError(path)}
		}
		return []UserError{{"OBJECT_PROPERTIES_MAXIMUM", fmt.Sprintf("Too many properties defined (%d), maximum %d", k.Got, k.Want), path}}
	case *kind.MinLength:
		return []UserError{tooShort(path, k.Got, k.Want)}
	case *kind.MaxLength:
		return []UserError{tooLong(path, k.Got, k.Want)}
	case *kind.Minimum:
		return []UserError{{"MINIMUM", fmt.Sprintf("Value %s is less than minimum %s", k.Got.RatString(), k.Want.RatString()), path}}
	case *kind.Maximum:
		return []UserError{{"MAXIMUM", fmt.Sprintf("Value %s is greater than maximum %s", k.Got.RatString(), k.Want.RatString()), path}}
	case *kind.AnyOf:
		return []UserError{{"ANY_OF_MISSING", "Data does not match any schemas from 'anyOf'", path}}
	case *kind.Not:
		return []UserError{{"NOT_PASSED", "Data matches schema from 'not'", path}}
	default:
		kw := ve.ErrorKind.KeywordPath()
		return []UserError{{strings.ToUpper(strings.Join(kw, "_")), fmt.Sprint(ve.ErrorKind), path}}
	}
}

// patternError names the pattern and, unless the value is a secret (an MFA
// secret or a hash), the value that failed it.
func patternError(path, pattern, value string) UserError {
	msg := "String does not match pattern " + pattern
	if !isSecretPath(path) {
		msg += ": " + value
	}
	return UserError{"PATTERN", msg, path}
}

func isSecretPath(path string) bool {
	for _, p := range []string{"password_hash", "custom_password_hash", "mfa_factors"} {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

func tooShort(path string, got, want int) UserError {
	return UserError{"MIN_LENGTH", fmt.Sprintf("String is too short (%d chars), minimum %d", got, want), path}
}

func tooLong(path string, got, want int) UserError {
	return UserError{"MAX_LENGTH", fmt.Sprintf("String is too long (%d chars), maximum %d", got, want), path}
}

func mfaFactorError(path string) UserError {
	return UserError{"MFA_FACTORS_FAILED", "An MFA factor must hold exactly one of totp, phone or email", path}
}

// jsonPath writes an instance location as Auth0 writes paths:
// "mfa_factors[0].totp.secret".
func jsonPath(loc []string) string {
	var b strings.Builder
	for _, seg := range loc {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func display(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func plain(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return display(v)
}

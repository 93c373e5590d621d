package source

// Row is one source record, mapped onto Auth0's import fields but not yet
// validated: every value is the text the file held. JSON scalars are given
// as their text (true, 42), JSON objects and arrays as compact JSON text,
// null and absent keys as "". Validation turns a Row into an
// importuser.User.
type Row struct {
	// Line is the 1-based line where the record starts (a CSV header is line 1).
	Line int `csv:"-"`

	Email         string `csv:"email"`
	EmailVerified string `csv:"email_verified"`
	PhoneNumber   string `csv:"phone_number"`
	PhoneVerified string `csv:"phone_verified"`
	UserID        string `csv:"user_id"`
	Username      string `csv:"username"`
	GivenName     string `csv:"given_name"`
	FamilyName    string `csv:"family_name"`
	Name          string `csv:"name"`
	Nickname      string `csv:"nickname"`
	Picture       string `csv:"picture"`
	Blocked       string `csv:"blocked"`
	AppMetadata   string `csv:"app_metadata"`  // JSON object text
	UserMetadata  string `csv:"user_metadata"` // JSON object text
	MFAFactors    string `csv:"mfa_factors"`   // JSON array text

	PasswordHash       string `csv:"password_hash"`        // legacy hash in any recognised form
	CustomPasswordHash string `csv:"custom_password_hash"` // JSON object text, when the source already has Auth0's form
	PasswordAlgorithm  string `csv:"password_algorithm"`
	PasswordSalt       string `csv:"password_salt"`
	SaltPosition       string `csv:"salt_position"`
	PasswordEncoding   string `csv:"password_encoding"`

	// Broken is set when the record could not be read as a record at all
	// (wrong field count, bad quoting, invalid JSON); it is then a
	// *RecordError. The other fields may be empty; RawCells or RawJSON
	// still hold what could be recovered.
	Broken error `csv:"-"`

	// RawCells and RawJSON are the record as it was in the file: the CSV
	// cells (aligned with Reader.Header) or, for JSON sources, the
	// element's bytes. Quarantine files are written from them, so a rejected
	// row is kept exactly. For a broken CSV record whose quoting could not
	// be parsed, RawCells is its line split at the delimiter, so that a
	// spreadsheet shows the stray quote where it was. Both belong to the
	// Row: they stay valid after the next Reader.Next.
	RawCells []string `csv:"-"`
	RawJSON  []byte   `csv:"-"`
}

// Fields lists the field names a column may map to, in Auth0's order.
var Fields = []string{
	"email", "email_verified", "phone_number", "phone_verified", "user_id", "username",
	"given_name", "family_name", "name", "nickname", "picture", "blocked",
	"app_metadata", "user_metadata", "mfa_factors",
	"password_hash", "custom_password_hash", "password_algorithm", "password_salt", "salt_position", "password_encoding",
}

// fieldPtrs[i] points at the value of Fields[i] in a Row; the JSON reader
// fills a Row through it.
var fieldPtrs = [...]func(*Row) *string{
	func(r *Row) *string { return &r.Email },
	func(r *Row) *string { return &r.EmailVerified },
	func(r *Row) *string { return &r.PhoneNumber },
	func(r *Row) *string { return &r.PhoneVerified },
	func(r *Row) *string { return &r.UserID },
	func(r *Row) *string { return &r.Username },
	func(r *Row) *string { return &r.GivenName },
	func(r *Row) *string { return &r.FamilyName },
	func(r *Row) *string { return &r.Name },
	func(r *Row) *string { return &r.Nickname },
	func(r *Row) *string { return &r.Picture },
	func(r *Row) *string { return &r.Blocked },
	func(r *Row) *string { return &r.AppMetadata },
	func(r *Row) *string { return &r.UserMetadata },
	func(r *Row) *string { return &r.MFAFactors },
	func(r *Row) *string { return &r.PasswordHash },
	func(r *Row) *string { return &r.CustomPasswordHash },
	func(r *Row) *string { return &r.PasswordAlgorithm },
	func(r *Row) *string { return &r.PasswordSalt },
	func(r *Row) *string { return &r.SaltPosition },
	func(r *Row) *string { return &r.PasswordEncoding },
}

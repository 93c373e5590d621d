package auth0

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strconv"
	"time"

	"provision/engine/importuser"
	"provision/engine/target"
)

// Submit starts an import job: POST /api/v2/jobs/users-imports (scope
// create:users) with the file as the "users" part and connection_id,
// upsert, external_id and send_completion_email as form fields.
// send_completion_email is false unless Config.SendCompletionEmail is set,
// although Auth0's default is true: a migration of many files would
// otherwise e-mail every tenant administrator once per job.
//
// A 429 (rate limit, or the tenant's two concurrent import jobs already
// running) is waited out and retried. A 5xx or network failure after the
// request was sent returns an *AmbiguousSubmitError (ErrAmbiguousSubmit):
// the job may exist, and only the caller can resolve that safely.
func (c *Client) Submit(ctx context.Context, s target.Submission) (target.Job, error) {
	if c.cfg.ConnectionID == "" {
		return target.Job{}, fmt.Errorf("submit %s: no connection; give --connection con_…", s.FileName())
	}
	payload, contentType, err := c.importForm(s)
	if err != nil {
		return target.Job{}, fmt.Errorf("submit %s: %w", s.FileName(), err)
	}
	var j jobJSON
	err = c.do(ctx, call{
		op:     "submit " + s.FileName(),
		method: "POST",
		path:   "/api/v2/jobs/users-imports",
		kind:   kindSubmit,
		file:   s.FileName(),
		body: func() (body, error) {
			return body{reader: bytes.NewReader(payload), contentType: contentType}, nil
		},
	}, &j)
	if err != nil {
		return target.Job{}, err
	}
	if j.ID == "" {
		return target.Job{}, &AmbiguousSubmitError{File: s.FileName(), Cause: fmt.Errorf("the tenant accepted the file but its answer named no job")}
	}
	return j.job(), nil
}

func (c *Client) importForm(s target.Submission) ([]byte, string, error) {
	var buf bytes.Buffer
	buf.Grow(len(s.Data) + 1024)
	mp := multipart.NewWriter(&buf)
	fields := [][2]string{
		{"connection_id", c.cfg.ConnectionID},
		{"upsert", strconv.FormatBool(s.Upsert)},
		{"send_completion_email", strconv.FormatBool(c.cfg.SendCompletionEmail)},
	}
	if s.ExternalID != "" {
		fields = append(fields, [2]string{"external_id", s.ExternalID})
	}
	for _, f := range fields {
		if err := mp.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="users"; filename=%q`, s.FileName()))
	h.Set("Content-Type", "application/json")
	part, err := mp.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(s.Data); err != nil {
		return nil, "", err
	}
	if err := mp.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), mp.FormDataContentType(), nil
}

// Job reads a job's status: GET /api/v2/jobs/{id}.
func (c *Client) Job(ctx context.Context, id string) (target.Job, error) {
	path, raw := apiPath("jobs", id)
	var j jobJSON
	if err := c.do(ctx, call{op: "get job " + id, method: "GET", path: path, rawPath: raw}, &j); err != nil {
		return target.Job{}, err
	}
	return j.job(), nil
}

// JobErrors reads the users a job rejected: GET /api/v2/jobs/{id}/errors.
// Auth0 answers with an array of {user, errors}, or with the job itself
// when there are no per-user errors, or with 204 No Content; the latter
// two give an empty slice. Users come back with every secret masked.
func (c *Client) JobErrors(ctx context.Context, id string) ([]target.JobUserError, error) {
	path, raw := apiPath("jobs", id, "errors")
	var answer json.RawMessage
	if err := c.do(ctx, call{op: "get errors of job " + id, method: "GET", path: path, rawPath: raw}, &answer); err != nil {
		return nil, err
	}
	answer = bytes.TrimSpace(answer)
	if len(answer) == 0 || answer[0] != '[' {
		return []target.JobUserError{}, nil
	}
	var items []struct {
		User   json.RawMessage `json:"user"`
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Path    string `json:"path"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(answer, &items); err != nil {
		return nil, fmt.Errorf("get errors of job %s: unreadable answer: %w", id, err)
	}
	out := make([]target.JobUserError, len(items))
	for i, it := range items {
		out[i].User = decodeErrorUser(it.User)
		for _, e := range it.Errors {
			out[i].Errors = append(out[i].Errors, target.UserError{Code: e.Code, Message: e.Message, Path: e.Path})
		}
	}
	return out, nil
}

// decodeErrorUser reads the user object of a job error. A user rejected
// for a type error may not fit importuser.User; then the identifying
// fields are kept and the rest dropped, never the other way round.
func decodeErrorUser(raw json.RawMessage) importuser.User {
	var u importuser.User
	if json.Unmarshal(raw, &u) == nil {
		return u.Redacted()
	}
	var loose map[string]any
	_ = json.Unmarshal(raw, &loose)
	str := func(k string) string { s, _ := loose[k].(string); return s }
	return importuser.User{Email: str("email"), UserID: str("user_id"), Username: str("username"), PhoneNumber: str("phone_number")}
}

// jobJSON is a job as the Management API writes it.
type jobJSON struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Status          string          `json:"status"`
	ConnectionID    string          `json:"connection_id"`
	ExternalID      string          `json:"external_id"`
	CreatedAt       string          `json:"created_at"`
	Location        string          `json:"location"`
	PercentageDone  float64         `json:"percentage_done"`
	TimeLeftSeconds float64         `json:"time_left_seconds"`
	StatusDetails   json.RawMessage `json:"status_details"`
	Summary         struct {
		Failed   int `json:"failed"`
		Updated  int `json:"updated"`
		Inserted int `json:"inserted"`
		Total    int `json:"total"`
	} `json:"summary"`
}

func (j jobJSON) job() target.Job {
	return target.Job{
		ID:             j.ID,
		Type:           j.Type,
		Status:         target.JobStatus(j.Status),
		ConnectionID:   j.ConnectionID,
		ExternalID:     j.ExternalID,
		CreatedAt:      parseTime(j.CreatedAt),
		Location:       j.Location,
		PercentageDone: int(j.PercentageDone),
		TimeLeft:       time.Duration(j.TimeLeftSeconds * float64(time.Second)),
		StatusDetails:  statusDetails(j.StatusDetails),
		Summary: target.Summary{
			Inserted: j.Summary.Inserted, Updated: j.Summary.Updated,
			Failed: j.Summary.Failed, Total: j.Summary.Total,
		},
	}
}

// statusDetails accepts the string Auth0 documents and, in case, any
// other JSON (kept as compact text).
func statusDetails(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return shorten(buf.String(), 1000)
	}
	return ""
}

// parseTime reads Auth0's ISO 8601 timestamps; a missing or odd one is the
// zero time rather than a failed call, since no decision depends on it.
func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

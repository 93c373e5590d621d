package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"provision/engine/sandbox/store"
)

// multipartOverhead is what an import request may carry besides the users
// file: boundaries, headers and the small form fields.
const multipartOverhead = 64 << 10

// importForm is a parsed POST /api/v2/jobs/users-imports.
type importForm struct {
	users               []byte
	connectionID        string
	upsert              bool
	externalID          string
	sendCompletionEmail bool
}

// handleImport creates an import job. The file is checked for size and
// presence here; its content is only read when the job runs, as on Auth0,
// where a file that is not a JSON array yields a failed job, not a 400.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readImportForm(w, r)
	if !ok {
		return
	}
	now := s.now()
	var (
		j        *jobRecord
		busy     bool
		noSuchID bool
	)
	err := s.store.Update(func(tx store.Tx) error {
		st := state{tx}
		conn, err := st.connection(form.connectionID)
		if err != nil {
			return err
		}
		if conn == nil {
			noSuchID = true
			return nil
		}
		running, err := st.activeImports()
		if err != nil {
			return err
		}
		if running >= s.cfg.MaxConcurrentImports {
			busy = true
			return nil
		}
		seq, err := st.nextSeq(metaJobSeq)
		if err != nil {
			return err
		}
		// Only a job that is created takes its share of injected faults.
		duration, mustFail := s.faults.newJob()
		j = &jobRecord{
			ID: newJobID(), Seq: seq, Type: jobImport,
			ConnectionID: conn.ID, Connection: conn.Name, ExternalID: form.externalID,
			Upsert: form.upsert, SendCompletionEmail: form.sendCompletionEmail,
			CreatedAt: now, Duration: duration, MustFail: mustFail, Status: statusPending,
		}
		if err := tx.Put(bucketJobFiles, j.ID, form.users); err != nil {
			return err
		}
		return st.putJob(j)
	})
	switch {
	case err != nil:
		s.log.Error("create import job", "err", err)
		internalError(w)
	case noSuchID:
		writeAPIError(w, http.StatusBadRequest, "The connection does not exist", "inexistent_connection")
	case busy:
		writeAPIError(w, http.StatusTooManyRequests,
			fmt.Sprintf("There are %d active import users jobs, please wait until some of them are finished and try again", s.cfg.MaxConcurrentImports), "")
	case s.faults.takeImportFailure():
		s.log.Info("fault injected", "kind", "500 after creating job", "job", j.ID)
		internalError(w)
	default:
		v := s.viewJob(j, r, now)
		v.Status = statusPending // the creation response is always pending
		v.PercentageDone, v.TimeLeftSeconds = nil, nil
		v.Upsert, v.SendCompletionEmail = &form.upsert, &form.sendCompletionEmail
		writeJSON(w, http.StatusCreated, v)
	}
}

// readImportForm streams the multipart body, holding at most one users
// file in memory and refusing a larger one with Auth0's 413.
func (s *Server) readImportForm(w http.ResponseWriter, r *http.Request) (importForm, bool) {
	form := importForm{sendCompletionEmail: true} // Auth0's default
	tooLarge := func() (importForm, bool) {
		writeAPIError(w, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Payload content length greater than maximum allowed: %d", s.cfg.MaxFileSize), "")
		return form, false
	}
	limit := s.cfg.MaxFileSize + multipartOverhead
	if r.ContentLength > limit {
		return tooLarge()
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		writeAPIError(w, http.StatusBadRequest, "Expected multipart/form-data with a users file", "invalid_body")
		return form, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "Malformed multipart/form-data body: "+err.Error(), "invalid_body")
		return form, false
	}
	var haveUsers, haveConnection bool
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return tooLarge()
		}
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "Malformed multipart/form-data body: "+err.Error(), "invalid_body")
			return form, false
		}
		name := part.FormName()
		if name == "users" {
			data, err := io.ReadAll(io.LimitReader(part, s.cfg.MaxFileSize+1))
			if errors.As(err, &maxErr) || int64(len(data)) > s.cfg.MaxFileSize {
				return tooLarge()
			}
			if err != nil {
				writeAPIError(w, http.StatusBadRequest, "Could not read the users file: "+err.Error(), "invalid_body")
				return form, false
			}
			form.users, haveUsers = data, true
			continue
		}
		value, err := readField(part)
		if errors.As(err, &maxErr) {
			return tooLarge()
		}
		if err != nil {
			badRequest(w, err.Error(), name)
			return form, false
		}
		switch name {
		case "connection_id":
			form.connectionID, haveConnection = value, true
		case "external_id":
			form.externalID = value
		case "upsert", "send_completion_email":
			b, err := strconv.ParseBool(value)
			if err != nil {
				badRequest(w, "Expected type boolean but found type string", name)
				return form, false
			}
			if name == "upsert" {
				form.upsert = b
			} else {
				form.sendCompletionEmail = b
			}
		default:
			badRequest(w, "Additional properties not allowed: "+name, "")
			return form, false
		}
	}
	switch {
	case !haveUsers:
		badRequest(w, "Missing required property: users", "")
	case !haveConnection:
		badRequest(w, "Missing required property: connection_id", "")
	case !connectionIDPattern.MatchString(form.connectionID):
		badRequest(w, "String does not match pattern "+connectionIDPattern.String(), "connection_id")
	default:
		return form, true
	}
	return form, false
}

// readField reads a small form field.
func readField(p *multipart.Part) (string, error) {
	const maxField = 4096
	b, err := io.ReadAll(io.LimitReader(p, maxField+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxField {
		return "", fmt.Errorf("String is too long (%d chars), maximum %d", len(b), maxField)
	}
	return string(b), nil
}

func (st state) activeImports() (int, error) {
	jobs, err := st.activeJobs()
	n := 0
	for _, j := range jobs {
		if j.Type == jobImport {
			n++
		}
	}
	return n, err
}

// finishImport runs the uploaded file through the import rules.
func (s *Server) finishImport(st state, j *jobRecord, now time.Time) error {
	conn, err := st.connection(j.ConnectionID)
	if err != nil {
		return err
	}
	file := st.tx.Get(bucketJobFiles, j.ID)
	elements, parseErr := parseUsersFile(file)
	if parseErr != nil {
		j.Status = statusFailed
		j.StatusDetails = "Failed to parse users file JSON when importing users: " + parseErr.Error()
		return nil
	}
	var result importResult
	if conn == nil {
		// The connection went away after the job was created: every user
		// fails, each with the code Auth0 lists for it.
		result = failAll(elements, UserError{Code: "CONNECTION_NOT_FOUND", Message: "The connection does not exist"})
	} else {
		im := newImporter(st, conn, j.Upsert, now)
		if result, err = im.run(elements); err != nil {
			return err
		}
	}
	j.Status = statusCompleted
	j.Summary = &result.summary
	j.ErrorCount = len(result.errors)
	if len(result.errors) == 0 {
		return nil
	}
	return putJSON(st.tx, bucketJobErrors, j.ID, result.errors)
}

// parseUsersFile splits an import file into its users. A file that is not
// JSON, or not an array, fails the whole job.
func parseUsersFile(file []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(file, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 || !json.Valid(trimmed) {
		return nil, errors.New("the file is not valid JSON")
	}
	var elements []json.RawMessage
	if trimmed[0] != '[' || json.Unmarshal(trimmed, &elements) != nil {
		return nil, errors.New("the file must be a JSON array of users")
	}
	return elements, nil
}

func failAll(elements []json.RawMessage, ue UserError) importResult {
	var res importResult
	res.summary.Total = len(elements)
	for _, e := range elements {
		res.summary.Failed++
		res.errors = append(res.errors, JobUserError{User: redactUserJSON(e), Errors: []UserError{ue}})
	}
	return res
}

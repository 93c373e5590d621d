package sandbox

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"provision/engine/sandbox/store"
)

// exportRequest is the body of POST /api/v2/jobs/users-exports.
type exportRequest struct {
	ConnectionID *string       `json:"connection_id"`
	Format       *string       `json:"format"`
	Limit        *int          `json:"limit"`
	Fields       []exportField `json:"fields"`
}

// exportFileName is what Auth0 names an export: after the tenant.
const exportFileName = "sandbox.json.gz"

// handleExport creates an export job. Only the JSON (NDJSON) format is
// produced; CSV is refused with a 400 that says so.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	body, err := readJSONObject(w, r)
	if err != nil {
		badRequest(w, err.Error(), "")
		return
	}
	for k := range body {
		switch k {
		case "connection_id", "format", "limit", "fields":
		default:
			badRequest(w, "Additional properties not allowed: "+k, "")
			return
		}
	}
	raw, _ := json.Marshal(body)
	var req exportRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		what, where := typeError(err)
		badRequest(w, what, where)
		return
	}
	format := "json"
	if req.Format != nil {
		format = *req.Format
	}
	switch {
	case format == "csv":
		writeAPIError(w, http.StatusBadRequest, "The sandbox exports users as json (NDJSON) only; ask for format json", "invalid_body")
		return
	case format != "json":
		badRequest(w, "No enum match for: "+display(format), "format")
		return
	case req.Limit != nil && *req.Limit < 1:
		badRequest(w, "Value "+strconv.Itoa(*req.Limit)+" is less than minimum 1", "limit")
		return
	case req.ConnectionID != nil && !connectionIDPattern.MatchString(*req.ConnectionID):
		badRequest(w, "String does not match pattern "+connectionIDPattern.String(), "connection_id")
		return
	}
	for i, f := range req.Fields {
		if f.Name == "" {
			badRequest(w, "Missing required property: name", "fields["+strconv.Itoa(i)+"]")
			return
		}
	}
	now := s.now()
	var j *jobRecord
	missing := false
	err = s.store.Update(func(tx store.Tx) error {
		st := state{tx}
		j = &jobRecord{ID: newJobID(), Type: jobExport, CreatedAt: now, Duration: s.faults.exportDuration(),
			Status: statusPending, Format: format, Fields: req.Fields}
		if req.Limit != nil {
			j.Limit = *req.Limit
		}
		if req.ConnectionID != nil {
			conn, err := st.connection(*req.ConnectionID)
			if err != nil {
				return err
			}
			if conn == nil {
				missing = true
				return nil
			}
			j.ConnectionID, j.Connection = conn.ID, conn.Name
		}
		seq, err := st.nextSeq(metaJobSeq)
		if err != nil {
			return err
		}
		j.Seq = seq
		return st.putJob(j)
	})
	switch {
	case err != nil:
		s.log.Error("create export job", "err", err)
		internalError(w)
	case missing:
		writeAPIError(w, http.StatusBadRequest, "The connection does not exist", "inexistent_connection")
	default:
		v := s.viewJob(j, r, now)
		v.Status = statusPending
		v.PercentageDone, v.TimeLeftSeconds = nil, nil
		writeJSON(w, http.StatusCreated, v)
	}
}

// finishExport writes the users, one JSON object per line, gzipped.
func (s *Server) finishExport(st state, j *jobRecord, _ time.Time) error {
	users, err := st.users(j.ConnectionID)
	if err != nil {
		return err
	}
	if j.Limit > 0 && len(users) > j.Limit {
		users = users[:j.Limit]
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	for _, u := range users {
		var line any = u.User
		if len(j.Fields) > 0 {
			m, err := toMap(u.User)
			if err != nil {
				return err
			}
			line = projectFields(m, j.Fields)
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	j.Status = statusCompleted
	return st.tx.Put(bucketJobFiles, j.ID, buf.Bytes())
}

// projectFields picks the requested fields, which may be paths such as
// "user_metadata.plan" or "identities[0].connection", renamed by
// export_as. Absent fields are left out.
func projectFields(user map[string]any, fields []exportField) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := lookupPath(user, f.Name); ok {
			out[cmp.Or(f.ExportAs, f.Name)] = v
		}
	}
	return out
}

var (
	pathSegment = regexp.MustCompile(`^([^\[\]]+)((?:\[\d+\])*)$`)
	pathIndex   = regexp.MustCompile(`\d+`)
)

func lookupPath(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		m := pathSegment.FindStringSubmatch(seg)
		if m == nil {
			return nil, false
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[m[1]]; !ok {
			return nil, false
		}
		for _, idx := range pathIndex.FindAllString(m[2], -1) {
			arr, ok := v.([]any)
			n, _ := strconv.Atoi(idx)
			if !ok || n >= len(arr) {
				return nil, false
			}
			v = arr[n]
		}
	}
	return v, true
}

// exportLocation is a download link valid for ExportLinkLifetime from now;
// each look at the job hands out a fresh one, as on Auth0.
func (s *Server) exportLocation(r *http.Request, j *jobRecord, now time.Time) string {
	expires := strconv.FormatInt(now.Add(ExportLinkLifetime).Unix(), 10)
	q := url.Values{"expires": {expires}, "signature": {s.exportSignature(j.ID, expires)}}
	return baseURL(r) + "/exports/" + j.ID + "/" + exportFileName + "?" + q.Encode()
}

func (s *Server) exportSignature(jobID, expires string) string {
	return base64.RawURLEncoding.EncodeToString(mac(s.signingKey, "export\x00"+jobID+"\x00"+expires))
}

// handleDownload serves an export file to anyone holding a valid link,
// like the pre-signed storage URL Auth0 hands out: no bearer token.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	id, q := r.PathValue("id"), r.URL.Query()
	expires := q.Get("expires")
	sig, err := base64.RawURLEncoding.DecodeString(q.Get("signature"))
	want, _ := base64.RawURLEncoding.DecodeString(s.exportSignature(id, expires))
	if err != nil || r.PathValue("file") != exportFileName || !hmac.Equal(sig, want) {
		http.Error(w, "Access denied: the link is not valid", http.StatusForbidden)
		return
	}
	if exp, err := strconv.ParseInt(expires, 10, 64); err != nil || !s.now().Before(time.Unix(exp, 0)) {
		http.Error(w, "Access denied: the link has expired; get the job again for a fresh one", http.StatusForbidden)
		return
	}
	var file []byte
	if err := s.store.View(func(tx store.Tx) error {
		file = tx.Get(bucketJobFiles, id)
		return nil
	}); err != nil || file == nil {
		http.Error(w, "The export no longer exists", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+exportFileName+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(file)))
	w.Write(file)
}

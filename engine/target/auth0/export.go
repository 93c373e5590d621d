package auth0

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cenkalti/backoff/v5"

	"provision/engine/target"
)

// ExportRequest describes a users export job.
type ExportRequest struct {
	// ConnectionID limits the export to one connection; empty exports
	// every connection of the tenant.
	ConnectionID string `json:"connection_id,omitempty"`
	// Format is "json" (newline-delimited JSON, the default) or "csv".
	Format string `json:"format"`
	// Limit caps the number of users; zero exports all.
	Limit int `json:"limit,omitempty"`
	// Fields to export; empty takes Auth0's default set.
	Fields []ExportField `json:"fields,omitempty"`
}

// ExportField names one exported user field, e.g. "identities[0].connection".
type ExportField struct {
	Name     string `json:"name"`
	ExportAs string `json:"export_as,omitempty"`
}

// StartExport creates an export job: POST /api/v2/jobs/users-exports
// (scope read:users). Retrying it is harmless: at worst a second export
// job runs.
func (c *Client) StartExport(ctx context.Context, r ExportRequest) (target.Job, error) {
	if r.Format == "" {
		r.Format = "json"
	}
	doc, err := json.Marshal(r)
	if err != nil {
		return target.Job{}, err
	}
	kind := kindAPI
	if r.ConnectionID != "" {
		kind = kindNamesConn
	}
	var j jobJSON
	err = c.do(ctx, call{
		op: "start a users export", method: "POST", path: "/api/v2/jobs/users-exports", kind: kind,
		body: func() (body, error) { return body{reader: bytes.NewReader(doc), contentType: "application/json"}, nil },
	}, &j)
	if err != nil {
		return target.Job{}, err
	}
	return j.job(), nil
}

// WaitJob polls a job until it is completed, failed or expired, backing
// off between polls as RetryPolicy.PollInitial and PollMax say. Only ctx
// bounds the wait: a large export can take long.
func (c *Client) WaitJob(ctx context.Context, id string) (target.Job, error) {
	eb := backoff.NewExponentialBackOff()
	eb.InitialInterval, eb.MaxInterval = c.retry.PollInitial, c.retry.PollMax
	return backoff.Retry(ctx, func() (target.Job, error) {
		j, err := c.Job(ctx, id)
		if err != nil {
			return j, backoff.Permanent(err) // Job already retried what it could
		}
		if !j.Status.Terminal() {
			return j, errJobRunning
		}
		return j, nil
	}, backoff.WithBackOff(eb), backoff.WithMaxElapsedTime(0))
}

var errJobRunning = errors.New("job still running")

// ExportUsers runs an export job to its end and copies the users, as
// newline-delimited JSON (or CSV), to w. The file holds personal data:
// w should be a 0600 file.
func (c *Client) ExportUsers(ctx context.Context, r ExportRequest, w io.Writer) error {
	j, err := c.StartExport(ctx, r)
	if err != nil {
		return err
	}
	if j, err = c.WaitJob(ctx, j.ID); err != nil {
		return err
	}
	if j.Status != target.StatusCompleted {
		return fmt.Errorf("export job %s ended %s: %s", j.ID, j.Status, firstNonEmpty(j.StatusDetails, "no details given"))
	}
	rc, err := c.DownloadExport(ctx, j)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("download export of job %s: %w", j.ID, err)
	}
	return rc.Close()
}

// DownloadExport opens a completed export job's file at its location,
// decompressed (Auth0 serves it gzipped). The location is a short-lived
// link (60 s) to storage outside the Management API, so the request
// carries no credentials.
func (c *Client) DownloadExport(ctx context.Context, j target.Job) (io.ReadCloser, error) {
	u, err := url.Parse(j.Location)
	if err != nil || j.Location == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, fmt.Errorf("export job %s: unusable download location %q; run the export again", j.ID, j.Location)
	}
	// The API client's overall timeout would cut a large download short;
	// the context bounds it instead.
	dl := &http.Client{Transport: c.http.Transport}
	resp, err := backoff.Retry(ctx, func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
		if err != nil {
			return nil, backoff.Permanent(err)
		}
		req.Header.Set("User-Agent", c.cfg.UserAgent)
		resp, err := dl.Do(req)
		switch {
		case err != nil:
			return nil, err
		case resp.StatusCode >= 500:
			resp.Body.Close()
			return nil, fmt.Errorf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		case resp.StatusCode != http.StatusOK:
			resp.Body.Close()
			return nil, backoff.Permanent(fmt.Errorf("%d %s (the link is valid for 60 s after the job completes)", resp.StatusCode, http.StatusText(resp.StatusCode)))
		}
		return resp, nil
	}, backoff.WithMaxTries(3), backoff.WithMaxElapsedTime(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("download export of job %s: %w; run the export again", j.ID, err)
	}
	br := bufio.NewReader(resp.Body)
	// Sniff rather than trust headers: storage serves the .gz file as an
	// opaque object, and a local sandbox may serve it plain.
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("download export of job %s: %w", j.ID, err)
		}
		return &gunzipBody{zr: zr, body: resp.Body}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, resp.Body}, nil
}

type gunzipBody struct {
	zr   *gzip.Reader
	body io.ReadCloser
}

func (g *gunzipBody) Read(p []byte) (int, error) { return g.zr.Read(p) }

func (g *gunzipBody) Close() error {
	zerr := g.zr.Close()
	if err := g.body.Close(); err != nil {
		return err
	}
	return zerr
}

// Connection is a connection as the Management API describes it.
// Options stays raw JSON: its shape depends on the strategy, and a
// patch must send back everything it read (see PatchConnection).
type Connection struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Strategy       string          `json:"strategy"`
	EnabledClients []string        `json:"enabled_clients,omitempty"`
	Options        json.RawMessage `json:"options,omitempty"`
}

// Connection reads a connection: GET /api/v2/connections/{id} (scope
// read:connections). An empty id means Config.ConnectionID.
func (c *Client) Connection(ctx context.Context, id string) (Connection, error) {
	id = firstNonEmpty(id, c.cfg.ConnectionID)
	path, raw := apiPath("connections", id)
	var conn Connection
	err := c.do(ctx, call{op: "get connection " + id, method: "GET", path: path, rawPath: raw, kind: kindConnection}, &conn)
	return conn, err
}

// PatchConnection updates a connection: PATCH /api/v2/connections/{id}
// (scope update:connections) with patch marshalled as JSON. Auth0
// replaces the whole options object when options is sent, so read the
// connection, change its Options and send them back complete. Repeating
// the same patch is harmless, so it is retried like a read.
func (c *Client) PatchConnection(ctx context.Context, id string, patch any) (Connection, error) {
	id = firstNonEmpty(id, c.cfg.ConnectionID)
	doc, err := json.Marshal(patch)
	if err != nil {
		return Connection{}, fmt.Errorf("patch connection %s: %w", id, err)
	}
	path, raw := apiPath("connections", id)
	var conn Connection
	err = c.do(ctx, call{
		op: "patch connection " + id, method: "PATCH", path: path, rawPath: raw, kind: kindConnection,
		body: func() (body, error) { return body{reader: bytes.NewReader(doc), contentType: "application/json"}, nil },
	}, &conn)
	return conn, err
}

package sandbox

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"provision/engine/sandbox/store"
)

// A job's life is a function of its creation time, its duration and the
// clock: a fifth of the duration pending, the rest processing, then its end.
// Nothing runs on a timer; advance settles every job whose end has come,
// whenever a request (or the background loop) calls it. A tenant restored
// from --data therefore resumes its jobs where the clock says they are, and
// one whose timeout passed while the sandbox was down fails, as on Auth0.

type jobPhase int

const (
	phasePending jobPhase = iota
	phaseProcessing
	phaseDue     // its end has come: run it
	phaseTimeout // it would end after JobTimeout: fail it
)

func (s *Server) phase(j *jobRecord, now time.Time) (p jobPhase, percent int, left time.Duration) {
	elapsed := now.Sub(j.CreatedAt)
	if j.Duration > s.cfg.JobTimeout && elapsed >= s.cfg.JobTimeout {
		return phaseTimeout, 0, 0
	}
	if elapsed >= j.Duration {
		return phaseDue, 100, 0
	}
	queued := j.Duration / 5
	if elapsed < queued {
		return phasePending, 0, j.Duration - elapsed
	}
	percent = int(100 * (elapsed - queued) / (j.Duration - queued))
	return phaseProcessing, percent, j.Duration - elapsed
}

// advance settles due jobs, oldest first, and deletes expired ones.
func (s *Server) advance() error {
	s.advanceMu.Lock()
	defer s.advanceMu.Unlock()
	now := s.now()

	var active []*jobRecord
	if err := s.store.View(func(tx store.Tx) (err error) {
		active, err = state{tx}.activeJobs()
		return err
	}); err != nil {
		return err
	}
	for _, j := range active {
		p, _, _ := s.phase(j, now)
		if p != phaseDue && p != phaseTimeout {
			continue
		}
		if err := s.store.Update(func(tx store.Tx) error { return s.finish(state{tx}, j.ID, p, now) }); err != nil {
			return fmt.Errorf("job %s: %w", j.ID, err)
		}
	}
	if now.Before(s.nextSweep) {
		return nil
	}
	s.nextSweep = now.Add(time.Minute)
	return s.store.Update(func(tx store.Tx) error {
		st := state{tx}
		jobs, err := st.allJobs()
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if s.expired(j) {
				if err := st.deleteJob(j.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// finish runs a due job, or fails a timed-out one, inside one transaction:
// its users, its errors and its status commit together or not at all.
func (s *Server) finish(st state, id string, p jobPhase, now time.Time) error {
	j, err := st.job(id)
	if err != nil || j == nil || j.Done {
		return err // settled by someone else meanwhile, or expired
	}
	j.Done = true
	switch {
	case p == phaseTimeout:
		j.Status = statusFailed
		j.StatusDetails = fmt.Sprintf("Job timed out: it did not finish within %s", formatDuration(s.cfg.JobTimeout))
	case j.MustFail:
		j.Status = statusFailed
		j.StatusDetails = "Internal error while processing the job (injected by the sandbox)"
	case j.Type == jobImport:
		err = s.finishImport(st, j, now)
	case j.Type == jobExport:
		err = s.finishExport(st, j, now)
	default:
		err = fmt.Errorf("unknown job type %q", j.Type)
	}
	if err != nil {
		return err
	}
	if j.Type == jobImport {
		// The upload is not needed any more; results stay until retention.
		if err := st.tx.Delete(bucketJobFiles, j.ID); err != nil {
			return err
		}
	}
	s.logJob(j)
	return st.putJob(j)
}

func (s *Server) logJob(j *jobRecord) {
	attrs := []any{"id", j.ID, "type", j.Type, "status", j.Status}
	if j.Summary != nil {
		attrs = append(attrs, "inserted", j.Summary.Inserted, "updated", j.Summary.Updated,
			"failed", j.Summary.Failed, "total", j.Summary.Total)
	}
	if j.StatusDetails != "" {
		attrs = append(attrs, "details", j.StatusDetails)
	}
	if j.SendCompletionEmail {
		// There is no mail server: the log stands in for the email Auth0
		// sends tenant administrators.
		attrs = append(attrs, "completion_email", "logged instead of sent")
	}
	s.log.Info("job finished", attrs...)
}

func formatDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return d.String()
}

// jobView is a job as GET /api/v2/jobs/{id} shows it.
type jobView struct {
	Status              string        `json:"status"`
	Type                string        `json:"type"`
	CreatedAt           Timestamp     `json:"created_at"`
	ID                  string        `json:"id"`
	ConnectionID        string        `json:"connection_id,omitempty"`
	Connection          string        `json:"connection,omitempty"`
	ExternalID          string        `json:"external_id,omitempty"`
	Upsert              *bool         `json:"upsert,omitempty"`
	SendCompletionEmail *bool         `json:"send_completion_email,omitempty"`
	Format              string        `json:"format,omitempty"`
	Limit               int           `json:"limit,omitempty"`
	Fields              []exportField `json:"fields,omitempty"`
	Location            string        `json:"location,omitempty"`
	PercentageDone      *int          `json:"percentage_done,omitempty"`
	TimeLeftSeconds     *int          `json:"time_left_seconds,omitempty"`
	StatusDetails       string        `json:"status_details,omitempty"`
	Summary             *Summary      `json:"summary,omitempty"`
}

func (s *Server) viewJob(j *jobRecord, r *http.Request, now time.Time) jobView {
	v := jobView{
		Type: j.Type, CreatedAt: Timestamp{j.CreatedAt}, ID: j.ID,
		ConnectionID: j.ConnectionID, ExternalID: j.ExternalID,
		Status: j.Status, StatusDetails: j.StatusDetails, Summary: j.Summary,
	}
	if j.Type == jobExport {
		v.Connection, v.Format, v.Limit, v.Fields = j.Connection, j.Format, j.Limit, j.Fields
	}
	if j.Done {
		if j.Type == jobExport && j.Status == statusCompleted {
			v.Location = s.exportLocation(r, j, now)
		}
		return v
	}
	switch p, percent, left := s.phase(j, now); p {
	case phasePending:
		v.Status = statusPending
	default:
		v.Status = statusProcessing
		v.PercentageDone = &percent
		secs := int(math.Ceil(left.Seconds()))
		v.TimeLeftSeconds = &secs
	}
	return v
}

var errNotFound = errors.New("not found")

func (s *Server) handleGetJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.lookupJob(r.PathValue("id"))
	if err != nil {
		s.jobLookupFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.viewJob(j, r, s.now()))
}

// handleJobErrors lists the users a finished import did not import. A job
// still running is answered with the job itself, and a finished job with no
// per-user errors with 204 (reported by Auth0 users for a failed job).
func (s *Server) handleJobErrors(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var (
		j    *jobRecord
		errs []byte
	)
	err := s.store.View(func(tx store.Tx) (err error) {
		if j, err = (state{tx}).job(id); err != nil || j == nil {
			return err
		}
		errs = tx.Get(bucketJobErrors, id)
		return nil
	})
	if err == nil && (j == nil || s.expired(j)) {
		err = errNotFound
	}
	if err != nil {
		s.jobLookupFailed(w, err)
		return
	}
	switch {
	case !j.Done:
		writeJSON(w, http.StatusOK, s.viewJob(j, r, s.now()))
	case len(errs) == 0:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(errs)
	}
}

func (s *Server) lookupJob(id string) (*jobRecord, error) {
	var j *jobRecord
	err := s.store.View(func(tx store.Tx) (err error) {
		j, err = state{tx}.job(id)
		return err
	})
	if err == nil && (j == nil || s.expired(j)) {
		err = errNotFound
	}
	return j, err
}

// expired reports whether a job's data is past retention. advance deletes
// such jobs only about once a minute; reads must not see them meanwhile.
func (s *Server) expired(j *jobRecord) bool {
	return s.now().Sub(j.CreatedAt) >= s.cfg.JobRetention
}

func (s *Server) jobLookupFailed(w http.ResponseWriter, err error) {
	if errors.Is(err, errNotFound) {
		writeAPIError(w, http.StatusNotFound, "The job does not exist.", "inexistent_job")
		return
	}
	s.log.Error("read job", "err", err)
	internalError(w)
}

// newJobID returns an id shaped like Auth0's: "job_" and 16 letters or
// digits.
func newJobID() string { return "job_" + randomString(16) }

// Package reconcile is the account a client is shown after a migration:
// every source row in exactly one bucket (inserted, updated, failed with
// the target's reason, quarantined with the validation reason, skipped as
// a duplicate, and, while a run is unfinished or after a rollback, not
// migrated yet or rolled back), with the buckets adding up to the source's
// row count. Build checks that sum and refuses to produce a report that
// does not add up.
package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"provision/storage"
)

// Bucket is where one source row ended up.
type Bucket string

const (
	Inserted    Bucket = "inserted"
	Updated     Bucket = "updated"
	Failed      Bucket = "failed"
	Quarantined Bucket = "quarantined"
	Skipped     Bucket = "skipped"
	// NotMigrated rows are valid but have no outcome yet: the run is
	// unfinished (waiting for a stage, or jobs in flight).
	NotMigrated Bucket = "not_migrated"
	// RolledBack rows were inserted, then deleted by a rollback.
	RolledBack Bucket = "rolled_back"
)

// Buckets lists every bucket in report order.
var Buckets = []Bucket{Inserted, Updated, Failed, Quarantined, Skipped, NotMigrated, RolledBack}

// BucketOf is the bucket of a user in state s.
func BucketOf(s storage.UserState) Bucket {
	switch s {
	case storage.UserInserted:
		return Inserted
	case storage.UserUpdated:
		return Updated
	case storage.UserFailed:
		return Failed
	case storage.UserQuarantined:
		return Quarantined
	case storage.UserSkipped:
		return Skipped
	case storage.UserRolledBack:
		return RolledBack
	}
	return NotMigrated
}

// Row is one source row in a bucket that needs a person's attention.
type Row struct {
	Row     storage.RowID `json:"row"`
	Line    int           `json:"line"`
	Email   string        `json:"email"`
	Stage   string        `json:"stage,omitempty"`
	Code    string        `json:"code"`
	Message string        `json:"message"`
}

// StageLine is one stage's rows by bucket.
type StageLine struct {
	Name    string             `json:"name"`
	State   storage.StageState `json:"state"`
	Buckets map[Bucket]int     `json:"buckets"`
}

// Report is the reconciliation of one run.
type Report struct {
	Generated time.Time                 `json:"generated"`
	Source    storage.SourceFingerprint `json:"source"`
	Target    string                    `json:"target"`
	Upsert    bool                      `json:"upsert"`
	// Rows is the number of source rows; the buckets add up to it.
	Rows    int            `json:"rows"`
	Buckets map[Bucket]int `json:"buckets"`
	// Complete is set when no row waits for an outcome.
	Complete bool        `json:"complete"`
	Stages   []StageLine `json:"stages"`
	// FailedByCode and QuarantinedByCode count rows per reason.
	FailedByCode      map[string]int `json:"failed_by_code"`
	QuarantinedByCode map[string]int `json:"quarantined_by_code"`
	// Failed, Quarantined and Skipped list those rows, in row order.
	Failed      []Row `json:"failed"`
	Quarantined []Row `json:"quarantined"`
	Skipped     []Row `json:"skipped"`
}

// MismatchError is a reconciliation that does not add up: a defect, never
// a state of the data. It names the numbers so the defect can be traced.
type MismatchError struct {
	Rows    int
	Counted int
	Detail  string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("the reconciliation does not add up: the source has %d rows but %d are accounted for (%s); run provision journal verify and report this", e.Rows, e.Counted, e.Detail)
}

// Build reads every user of the journal once and accounts for each source
// row. sourceRows is the number of rows the run registered (run.SourceRows);
// every row number from 1 to sourceRows must be in exactly one bucket.
func Build(ctx context.Context, j *storage.Journal, sourceRows int) (*Report, error) {
	meta, err := j.Meta()
	if err != nil {
		return nil, err
	}
	stages, err := j.Stages()
	if err != nil {
		return nil, err
	}
	r := &Report{
		Generated: time.Now().UTC(), Source: meta.Source, Target: meta.Settings.Target, Upsert: meta.Settings.Upsert,
		Rows: sourceRows, Buckets: map[Bucket]int{}, FailedByCode: map[string]int{}, QuarantinedByCode: map[string]int{},
	}
	// Every bucket is present, zeros included: scripts read them by name.
	for _, b := range Buckets {
		r.Buckets[b] = 0
	}
	perStage := map[string]map[Bucket]int{}
	for _, st := range stages {
		perStage[st.Name] = map[Bucket]int{}
		for _, b := range Buckets {
			perStage[st.Name][b] = 0
		}
	}
	var expect storage.RowID = 1
	for u, err := range j.Users(ctx, storage.UserFilter{}) {
		if err != nil {
			return nil, err
		}
		if u.Row != expect {
			return nil, &MismatchError{Rows: sourceRows, Counted: int(expect) - 1, Detail: fmt.Sprintf("row %d follows row %d", u.Row, expect-1)}
		}
		expect++
		b := BucketOf(u.State)
		r.Buckets[b]++
		if u.Stage != "" {
			perStage[u.Stage][b]++
		}
		row := Row{Row: u.Row, Line: u.Line, Email: u.Email, Stage: u.Stage, Code: u.ErrorCode, Message: u.ErrorMessage}
		switch b {
		case Failed:
			r.FailedByCode[u.ErrorCode]++
			r.Failed = append(r.Failed, row)
		case Quarantined:
			r.QuarantinedByCode[u.ErrorCode]++
			r.Quarantined = append(r.Quarantined, row)
		case Skipped:
			r.Skipped = append(r.Skipped, row)
		}
	}
	counted := 0
	for _, n := range r.Buckets {
		counted += n
	}
	if sourceRows == 0 {
		return nil, fmt.Errorf("the run has not finished registering its source: run provision migrate to continue it, then report")
	}
	if counted != sourceRows || int(expect)-1 != sourceRows {
		return nil, &MismatchError{Rows: sourceRows, Counted: counted, Detail: fmt.Sprintf("rows 1 to %d are in the journal", expect-1)}
	}
	for _, st := range stages {
		r.Stages = append(r.Stages, StageLine{Name: st.Name, State: st.State, Buckets: perStage[st.Name]})
	}
	r.Complete = r.Buckets[NotMigrated] == 0
	return r, nil
}

// Sum adds up the buckets; Build guarantees it equals Rows.
func (r *Report) Sum() int {
	n := 0
	for _, v := range r.Buckets {
		n += v
	}
	return n
}

// codes lists a count map's keys, most frequent first.
func codes(m map[string]int) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		if a < b {
			return -1
		}
		return 1
	})
	return keys
}

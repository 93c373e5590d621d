package run

import (
	"context"

	"provision/engine/plan"
	"provision/engine/run/assign"
	"provision/engine/source"
	"provision/engine/validate"
	"provision/storage"
)

// DryRunReport is what a run would send, worked out without a journal or
// a target.
type DryRunReport struct {
	Source      storage.SourceFingerprint `json:"source"`
	Rows        int                       `json:"rows"`
	Valid       int                       `json:"valid"`
	Quarantined int                       `json:"quarantined"`
	Skipped     int                       `json:"skipped_duplicates"`
	ByCode      map[string]int            `json:"quarantined_by_code"`
	Canaries    []validate.CanaryResult   `json:"canaries"`
	Stages      []DryRunStage             `json:"stages"`
	Files       int                       `json:"files"`
	Bytes       int                       `json:"bytes"`
	Target      string                    `json:"target"`
	Upsert      bool                      `json:"upsert"`
	// Resume is set when the workspace already has a journal: migrate
	// would resume that run rather than start this one.
	Resume bool `json:"resume"`
}

// DryRunStage is one stage of a dry run.
type DryRunStage struct {
	Name           string  `json:"name"`
	Users          int     `json:"users"`
	Files          int     `json:"files"`
	Bytes          int     `json:"bytes"`
	MaxFailureRate float64 `json:"max_failure_rate"`
	Approve        bool    `json:"approve"`
}

// DryRun validates the source, assigns its users to stages and packs each
// stage into import files exactly as a run would, and reports the result.
// It writes nothing and contacts nobody; opts.Target may be nil.
func DryRun(ctx context.Context, opts Options) (*DryRunReport, error) {
	o := opts
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = 500_000
	}
	fp, err := Fingerprint(ctx, o.Source)
	if err != nil {
		return nil, err
	}
	r, closer, err := source.Open(fp.Path, o.SourceOptions)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	rep := &DryRunReport{Source: fp, ByCode: map[string]int{}, Target: o.Settings.Target, Upsert: o.Settings.Upsert, Resume: Exists(o.Journal)}
	type sized struct {
		row  storage.RowID
		size int
	}
	var cands []assign.Candidate
	var sizes []sized
	pos := 0
	vopts := validate.RunOptions{Options: o.Validate, File: fp.Path, MaxFindings: 1, Canaries: o.Canaries}
	vopts.MaxUserBytes = o.MaxFileBytes
	vopts.ExpectedRows = validate.ExpectedRows(fp.Size)
	vopts.OnResult = func(res *validate.Result) error {
		pos++
		nu := newUser(res)
		switch nu.State {
		case storage.UserPending:
			cands = append(cands, assign.Candidate{Row: storage.RowID(pos), Rank: assign.Rank(nu.Email)})
			sizes = append(sizes, sized{row: storage.RowID(pos), size: len(res.JSON)})
		case storage.UserQuarantined:
			rep.Quarantined++
			rep.ByCode[nu.ErrorCode]++
		case storage.UserSkipped:
			rep.Skipped++
		}
		return nil
	}
	vrep, err := validate.Run(ctx, r, vopts)
	if err != nil {
		return nil, err
	}
	rep.Rows, rep.Valid, rep.Canaries = pos, len(cands), vrep.Canaries

	plans, err := o.stagePlans()
	if err != nil {
		return nil, err
	}
	if plans == nil {
		plans = plan.DefaultStages(len(cands))
	}
	split, err := assign.Split(cands, plan.Sizes(plans, len(cands)))
	if err != nil {
		return nil, err
	}
	// sizes is in row order, like each stage's rows.
	size := make(map[storage.RowID]int, len(sizes))
	for _, s := range sizes {
		size[s.row] = s.size
	}
	for i, p := range plans {
		st := DryRunStage{Name: p.Name, Users: len(split[i]), MaxFailureRate: p.MaxFailureRate, Approve: p.Approve}
		st.Files, st.Bytes = packedSize(split[i], size, o.MaxFileBytes)
		rep.Stages = append(rep.Stages, st)
		rep.Files += st.Files
		rep.Bytes += st.Bytes
	}
	return rep, nil
}

// packedSize counts the files and bytes that chunk.Packer makes of users of
// the given JSON sizes, in order: it fills a file until the next user does
// not fit, and never puts more than maxChunkUsers in one.
func packedSize(rows []storage.RowID, size map[storage.RowID]int, maxBytes int) (files, bytes int) {
	open, users := 0, 0 // bytes of the open file without its closing bracket
	for _, row := range rows {
		n := size[row]
		if users > 0 && (open+1+n+1 > maxBytes || users == maxChunkUsers) {
			files, bytes = files+1, bytes+open+1
			open, users = 0, 0
		}
		if users == 0 {
			open = 1 + n
		} else {
			open += 1 + n
		}
		users++
	}
	if users > 0 {
		files, bytes = files+1, bytes+open+1
	}
	return files, bytes
}

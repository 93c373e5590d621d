package validate

// Report is the outcome of validating one source. Its JSON form is a
// contract that scripts rely on: keep the names.
type Report struct {
	File           string         `json:"file"`
	Format         string         `json:"format"`
	Rows           int            `json:"rows"`
	Valid          int            `json:"valid"`
	Quarantined    int            `json:"quarantined"`
	Duplicates     int            `json:"duplicates"`
	Warnings       int            `json:"warnings"`
	ByCode         map[string]int `json:"by_code"`
	HashAlgorithms map[string]int `json:"hash_algorithms"`
	Findings       []Finding      `json:"findings"`
	// FindingsOmitted counts findings beyond the --max-findings cap; they
	// are still counted in ByCode.
	FindingsOmitted int            `json:"findings_omitted"`
	Canaries        []CanaryResult `json:"canaries"`
}

func newReport(file, format string) *Report {
	return &Report{File: file, Format: format, ByCode: map[string]int{}, HashAlgorithms: map[string]int{},
		Findings: []Finding{}, Canaries: []CanaryResult{}}
}

// add records one finding, keeping at most max (0 = no limit).
func (r *Report) add(f Finding, max int) {
	r.ByCode[f.Code]++
	if f.Severity == SeverityWarning {
		r.Warnings++
	}
	if max > 0 && len(r.Findings) >= max {
		r.FindingsOmitted++
		return
	}
	r.Findings = append(r.Findings, f)
}

func (r *Report) addResult(res *Result, max int) {
	r.Rows++
	if res.Quarantined {
		r.Quarantined++
		if res.Duplicate {
			r.Duplicates++
		}
	} else {
		r.Valid++
	}
	if res.Row.Broken == nil {
		r.HashAlgorithms[res.Hash.Family]++
	}
	for _, f := range res.Findings {
		r.add(f, max)
	}
}

package plan

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// DefaultMaxFailureRate is a stage's gate when none is given: the run stops
// for a decision when more than 2% of a stage's users fail.
const DefaultMaxFailureRate = 0.02

// StagePlan is one stage of a bulk import and its gate. Exactly one of
// Count, Percent and Rest says how many users it takes.
type StagePlan struct {
	Name string
	// Count is a fixed number of users.
	Count int
	// Percent is a share of all the users to import, 0 < Percent <= 100.
	Percent float64
	// Rest takes every user no earlier stage took; only the last stage.
	Rest bool
	// MaxFailureRate stops the run after this stage when the share of its
	// users that failed is above it (0 to 1).
	MaxFailureRate float64
	// Approve makes the run wait for an operator after this stage.
	Approve bool
}

// Size is the stage's size as written in a plan: "50", "10%" or "rest".
func (s StagePlan) Size() string {
	switch {
	case s.Rest:
		return "rest"
	case s.Percent > 0:
		return strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(s.Count)
}

// ParseSize reads a stage size: a number of users ("50"), a share of all
// users ("10%") or "rest".
func ParseSize(v string) (count int, percent float64, rest bool, err error) {
	v = strings.TrimSpace(v)
	switch {
	case strings.EqualFold(v, "rest"):
		return 0, 0, true, nil
	case strings.HasSuffix(v, "%"):
		p, perr := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "%")), 64)
		if perr != nil || math.IsNaN(p) || p <= 0 || p > 100 {
			return 0, 0, false, fmt.Errorf("size %q: a share must be more than 0%% and at most 100%%", v)
		}
		return 0, p, false, nil
	}
	n, cerr := strconv.Atoi(v)
	if cerr != nil || n < 1 {
		return 0, 0, false, fmt.Errorf("size %q: give a number of users (50), a share of all users (10%%) or rest", v)
	}
	return n, 0, false, nil
}

// ParseRate reads a failure rate as a share ("2%") or a fraction ("0.02").
func ParseRate(v string) (float64, error) {
	v = strings.TrimSpace(v)
	scale := 1.0
	if s, ok := strings.CutSuffix(v, "%"); ok {
		v, scale = strings.TrimSpace(s), 100
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(r) || r < 0 || r/scale > 1 {
		return 0, fmt.Errorf("failure rate %q: give a share from 0%% to 100%% (2%%) or a fraction from 0 to 1 (0.02)", v)
	}
	return r / scale, nil
}

// ParseStages reads the compact form shared by --stages and hand-written
// plans: comma-separated stages, each NAME:SIZE with optional modifiers
// :approve and :max-fail=RATE, and a last stage "rest" (or NAME:rest).
//
//	canary:50:approve,wave:10%,rest
//	canary:50:approve:max-fail=1%,wave:10%:max-fail=5%,final:rest
func ParseStages(s string) ([]StagePlan, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("no stages: write them as canary:50:approve,wave:10%%,rest")
	}
	var stages []StagePlan
	for i, item := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(item), ":")
		st := StagePlan{Name: strings.TrimSpace(parts[0]), MaxFailureRate: DefaultMaxFailureRate}
		if len(parts) == 1 {
			if !strings.EqualFold(st.Name, "rest") {
				return nil, fmt.Errorf("stage %d %q has no size: write %s:50, %s:10%% or %s:rest", i+1, item, st.Name, st.Name, st.Name)
			}
			st.Name, st.Rest = "rest", true
		} else {
			var err error
			if st.Count, st.Percent, st.Rest, err = ParseSize(parts[1]); err != nil {
				return nil, fmt.Errorf("stage %d %q: %w", i+1, item, err)
			}
		}
		for _, mod := range parts[min(2, len(parts)):] {
			mod = strings.TrimSpace(mod)
			switch key, val, _ := strings.Cut(mod, "="); strings.ToLower(key) {
			case "approve":
				st.Approve = true
			case "max-fail":
				r, err := ParseRate(val)
				if err != nil {
					return nil, fmt.Errorf("stage %d %q: %w", i+1, item, err)
				}
				st.MaxFailureRate = r
			default:
				return nil, fmt.Errorf("stage %d %q: unknown modifier %q; use approve or max-fail=2%%", i+1, item, mod)
			}
		}
		stages = append(stages, st)
	}
	return stages, CheckStages(stages)
}

// FormatStages writes stages in the compact form ParseStages reads.
func FormatStages(stages []StagePlan) string {
	items := make([]string, len(stages))
	for i, s := range stages {
		item := s.Name + ":" + s.Size()
		if s.Rest && s.Name == "rest" {
			item = "rest"
		}
		if s.Approve {
			item += ":approve"
		}
		if s.MaxFailureRate != DefaultMaxFailureRate {
			item += ":max-fail=" + strconv.FormatFloat(100*s.MaxFailureRate, 'f', -1, 64) + "%"
		}
		items[i] = item
	}
	return strings.Join(items, ",")
}

var stageName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

// CheckStages applies the rules every stage list must follow: named
// uniquely, sized, shares adding up to at most 100%, and ending with the
// one rest stage, so that every user belongs to exactly one stage.
func CheckStages(stages []StagePlan) error {
	_, err := checkStages(stages)
	return err
}

// checkStages returns, with the error, the index of the stage at fault
// (-1 for the list as a whole).
func checkStages(stages []StagePlan) (int, error) {
	if len(stages) == 0 {
		return -1, fmt.Errorf("no stages: end with a rest stage at least")
	}
	seen := map[string]bool{}
	total := 0.0
	for i, s := range stages {
		sizes := 0
		for _, set := range []bool{s.Count > 0, s.Percent > 0, s.Rest} {
			if set {
				sizes++
			}
		}
		switch {
		case !stageName.MatchString(s.Name):
			return i, fmt.Errorf("stage %d: name %q: use letters, digits, - and _ (up to 32)", i+1, s.Name)
		case seen[strings.ToLower(s.Name)]:
			return i, fmt.Errorf("stage %q is named twice: give each stage its own name", s.Name)
		case sizes != 1 || s.Count < 0 || s.Percent < 0 || s.Percent > 100:
			return i, fmt.Errorf("stage %q: give exactly one size: a number of users, a share up to 100%% or rest", s.Name)
		case s.MaxFailureRate < 0 || s.MaxFailureRate > 1 || math.IsNaN(s.MaxFailureRate):
			return i, fmt.Errorf("stage %q: max_failure_rate %v: give a fraction from 0 to 1 (0.02 is 2%%)", s.Name, s.MaxFailureRate)
		case s.Rest && i != len(stages)-1:
			return i, fmt.Errorf("stage %q: only the last stage can be rest", s.Name)
		}
		seen[strings.ToLower(s.Name)] = true
		total += s.Percent
	}
	if total > 100 {
		return -1, fmt.Errorf("the stages' shares add up to %v%%, more than 100%%", total)
	}
	if !stages[len(stages)-1].Rest {
		return len(stages) - 1, fmt.Errorf("the last stage must be rest, so that every user belongs to a stage: add a rest stage after %q", stages[len(stages)-1].Name)
	}
	return -1, nil
}

// Sizes resolves the stages for total users: how many each takes, in order.
// Shares round up, so a small import still gets a non-empty stage; a stage
// never takes more users than are left, and the rest stage takes the
// remainder.
func Sizes(stages []StagePlan, total int) []int {
	out := make([]int, len(stages))
	left := total
	for i, s := range stages {
		n := s.Count
		switch {
		case s.Rest:
			n = left
		case s.Percent > 0:
			n = int(math.Ceil(s.Percent * float64(total) / 100))
		}
		n = min(n, left)
		out[i], left = n, left-n
	}
	return out
}

// DefaultStages sizes a bulk import for users: a canary that waits for
// approval, a wave of 10% for large imports, then the rest.
func DefaultStages(users int) []StagePlan {
	canary := StagePlan{Name: "canary", Count: 50, Approve: true, MaxFailureRate: DefaultMaxFailureRate}
	if users > 0 {
		canary.Count = min(max((users+50)/100, 10), 100)
	}
	rest := StagePlan{Name: "rest", Rest: true, MaxFailureRate: DefaultMaxFailureRate}
	if users > 0 && users < 200 {
		return []StagePlan{canary, rest}
	}
	return []StagePlan{canary, {Name: "wave", Percent: 10, MaxFailureRate: DefaultMaxFailureRate}, rest}
}

package plan

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseStages(t *testing.T) {
	d := DefaultMaxFailureRate
	tests := []struct {
		in   string
		want []StagePlan
		err  string
	}{
		{in: "canary:50,wave:10%,rest", want: []StagePlan{
			{Name: "canary", Count: 50, MaxFailureRate: d},
			{Name: "wave", Percent: 10, MaxFailureRate: d},
			{Name: "rest", Rest: true, MaxFailureRate: d}}},
		{in: " canary:50:approve:max-fail=1% , wave:12.5%:max-fail=0.05 , final:rest:approve", want: []StagePlan{
			{Name: "canary", Count: 50, Approve: true, MaxFailureRate: 0.01},
			{Name: "wave", Percent: 12.5, MaxFailureRate: 0.05},
			{Name: "final", Rest: true, Approve: true, MaxFailureRate: d}}},
		{in: "all:REST", want: []StagePlan{{Name: "all", Rest: true, MaxFailureRate: d}}},
		{in: "", err: "no stages"},
		{in: "canary,rest", err: `stage 1 "canary" has no size: write canary:50`},
		{in: "canary:0,rest", err: "give a number of users"},
		{in: "canary:-5,rest", err: "give a number of users"},
		{in: "canary:fifty,rest", err: "give a number of users"},
		{in: "wave:0%,rest", err: "more than 0%"},
		{in: "wave:101%,rest", err: "at most 100%"},
		{in: "a:60%,b:50%,rest", err: "add up to 110%"},
		{in: "canary:50", err: `the last stage must be rest`},
		{in: "rest,canary:50", err: `only the last stage can be rest`},
		{in: "canary:50,Canary:10,rest", err: `named twice`},
		{in: "can ary:50,rest", err: `use letters, digits`},
		{in: "canary:50:approved,rest", err: `unknown modifier "approved"`},
		{in: "canary:50:max-fail=200%,rest", err: "failure rate"},
		{in: "canary:50:max-fail=-1,rest", err: "failure rate"},
	}
	for _, tt := range tests {
		got, err := ParseStages(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want one containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
		// The compact form survives a round trip.
		again, err := ParseStages(FormatStages(got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("%q: FormatStages gives %q, which parses to %+v, %v", tt.in, FormatStages(got), again, err)
		}
	}
}

func TestSizes(t *testing.T) {
	stages, _ := ParseStages("canary:50,wave:10%,rest")
	tests := []struct {
		total int
		want  []int
	}{
		{1000, []int{50, 100, 850}},
		{1001, []int{50, 101, 850}}, // a share rounds up
		{55, []int{50, 5, 0}},
		{30, []int{30, 0, 0}}, // a stage never takes more than is left
		{0, []int{0, 0, 0}},
	}
	for _, tt := range tests {
		got := Sizes(stages, tt.total)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Sizes(%d) = %v, want %v", tt.total, got, tt.want)
		}
		sum := 0
		for _, n := range got {
			sum += n
		}
		if sum != tt.total {
			t.Errorf("Sizes(%d) sum to %d: every user must be in exactly one stage", tt.total, sum)
		}
	}
}

func TestDefaultStages(t *testing.T) {
	tests := []struct {
		users int
		want  string
	}{
		{0, "canary:50:approve,wave:10%,rest"},
		{150, "canary:10:approve,rest"},
		{300, "canary:10:approve,wave:10%,rest"},
		{5000, "canary:50:approve,wave:10%,rest"},
		{2000000, "canary:100:approve,wave:10%,rest"},
	}
	for _, tt := range tests {
		s := DefaultStages(tt.users)
		if got := FormatStages(s); got != tt.want {
			t.Errorf("DefaultStages(%d) = %s, want %s", tt.users, got, tt.want)
		}
		if err := CheckStages(s); err != nil {
			t.Errorf("DefaultStages(%d): %v", tt.users, err)
		}
	}
}

func FuzzParseStages(f *testing.F) {
	for _, s := range []string{"canary:50,wave:10%,rest", "a:1:approve:max-fail=2%,rest", "rest", "x:1e2%,rest", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stages, err := ParseStages(s)
		if err != nil {
			return
		}
		if err := CheckStages(stages); err != nil {
			t.Fatalf("ParseStages(%q) accepted stages CheckStages refuses: %v", s, err)
		}
		again, err := ParseStages(FormatStages(stages))
		if err != nil || !reflect.DeepEqual(again, stages) {
			t.Fatalf("%q: round trip through %q gives %+v, %v", s, FormatStages(stages), again, err)
		}
		for _, total := range []int{0, 1, 7, 1000} {
			sum := 0
			for _, n := range Sizes(stages, total) {
				if n < 0 {
					t.Fatalf("%q: negative stage size for %d users", s, total)
				}
				sum += n
			}
			if sum != total {
				t.Fatalf("%q: sizes for %d users sum to %d", s, total, sum)
			}
		}
	})
}

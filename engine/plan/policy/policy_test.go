package policy

import (
	"strings"
	"testing"
)

func TestMeets(t *testing.T) {
	tests := []struct {
		level    Level
		password string
		ok       bool
		why      string
	}{
		{None, "x", true, ""},
		{None, "", false, "shorter than 1"},
		{Low, "abcdef", true, ""},
		{Low, "abcde", false, "shorter than 6"},
		{Fair, "Abcdefg1", true, ""},
		{Fair, "abcdefg1", false, "lower case, upper case and a digit"},
		{Fair, "Abcdefg!", false, "lower case, upper case and a digit"},
		{Good, "abcdefg1!", true, ""},  // lower, digit, special
		{Good, "ABCDEFGH1a", true, ""}, // upper, digit, lower
		{Good, "abcdefgh1", false, "3 of"},
		{Good, "Abc1!", false, "shorter than 8"},
		{Good, "abcdefgh1?", false, "3 of"}, // ? is not one of Auth0's specials
		{Excellent, "Abcdefgh12", true, ""},
		{Excellent, "Abcdefgh1", false, "shorter than 10"},
		{Excellent, "Abbbcdefg12", false, "more than twice in a row"},
		{Excellent, "Aabcdefg12", true, ""},
		{Excellent, "Ünïcødé123x", true, ""}, // letters beyond ASCII count by kind
	}
	for _, tt := range tests {
		ok, why := tt.level.Meets(tt.password)
		if ok != tt.ok || !strings.Contains(why, tt.why) {
			t.Errorf("%s %q: %v %q, want %v %q", tt.level, tt.password, ok, why, tt.ok, tt.why)
		}
	}
}

func TestLevels(t *testing.T) {
	for i, l := range Levels {
		got, err := ParseLevel(" " + strings.ToUpper(string(l)) + " ")
		if err != nil || got != l {
			t.Errorf("ParseLevel(%s) = %s, %v", l, got, err)
		}
		if i > 0 && l.MinLength() < Levels[i-1].MinLength() {
			t.Errorf("%s is weaker than %s", l, Levels[i-1])
		}
		if l.Rule() == "unknown level" {
			t.Errorf("%s has no rule", l)
		}
	}
	if _, err := ParseLevel("strong"); err == nil || !strings.Contains(err.Error(), "none, low, fair, good, excellent") {
		t.Errorf("ParseLevel(strong): %v", err)
	}
}

func TestParseLength(t *testing.T) {
	tests := []struct {
		in       string
		min, max int
		err      string
	}{
		{"1-15", 1, 15, ""},
		{" 3 - 20 ", 3, 20, ""},
		{"1-128", 1, 128, ""},
		{"0-15", 0, 15, "Auth0 allows 1 to 128"},
		{"1-129", 1, 129, "Auth0 allows 1 to 128"},
		{"20-3", 20, 3, "minimum is above the maximum"},
		{"15", 0, 0, "write MIN-MAX"},
		{"a-b", 0, 0, "write MIN-MAX"},
	}
	for _, tt := range tests {
		min, max, err := ParseLength(tt.in)
		if tt.err == "" && (err != nil || min != tt.min || max != tt.max) {
			t.Errorf("%q: %d-%d, %v", tt.in, min, max, err)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
		}
	}
}

package common

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"
)

// StepsView shows where a page's flow is: ✓ done, ● current, ○ to come.
// The markers carry the meaning without colour.
func (s *Styles) StepsView(names []string, current int) string {
	out := make([]string, len(names))
	for i, name := range names {
		switch {
		case i < current:
			out[i] = s.StepDone.Render("✓ " + name)
		case i == current:
			out[i] = s.StepCurrent.Render("● " + name)
		default:
			out[i] = s.StepTodo.Render("○ " + name)
		}
	}
	return strings.Join(out, s.Faint.Render("  ›  "))
}

// TabsView is a tab bar: ● the shown tab, ○ the others.
func (s *Styles) TabsView(names []string, current int) string {
	out := make([]string, len(names))
	for i, n := range names {
		if i == current {
			out[i] = s.TabActive.Render("● " + n)
		} else {
			out[i] = s.TabInactive.Render("○ " + n)
		}
	}
	return strings.Join(out, s.TabSep.Render(" │ "))
}

// Flash is a one-line outcome under a page: ✓ for news, ✗ for a problem,
// wrapped to width.
func (s *Styles) Flash(text string, isErr bool, width int) string {
	if text == "" {
		return ""
	}
	if isErr {
		return s.FlashError.Width(width).Render("✗ " + text)
	}
	return s.FlashOK.Width(width).Render("✓ " + text)
}

// Cut truncates a styled line to w cells.
func Cut(line string, w int) string {
	if w <= 0 || ansi.StringWidth(line) <= w {
		return line
	}
	return ansi.Truncate(line, w, "…")
}

// Count formats n with thousands separators.
func Count(n int) string { return humanize.Comma(int64(n)) }

// Percent formats a share (0..1) with one decimal.
func Percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// Seconds formats a duration for people: "850 ms", "4.2 s", "3 min 10 s".
func Seconds(d time.Duration) string {
	switch {
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
}

// DisplayPath shows path relative to the current directory when it is
// below it (and under ~ when it is in the home directory), so screens
// stay short and free of home directory names.
func DisplayPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, abs); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(abs, home+string(filepath.Separator)) {
		return "~" + abs[len(home):]
	}
	return abs
}

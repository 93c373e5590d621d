package table

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"provision/tui/common"
)

func newTable(t *testing.T, rows int) Model {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	c := common.New(context.Background(), r, ".provision", nil, nil)
	m := New(c, []Column{{Title: "N", Width: 3, Right: true}, {Title: "NAME", Width: 4, Flex: true}, {Title: "HIDDEN", Width: 0}})
	var data [][]string
	for i := range rows {
		data = append(data, []string{fmt.Sprint(i), fmt.Sprintf("row %d with a long name", i), "x"})
	}
	m.SetRows(data)
	m.SetSize(20, 4) // header and three rows
	return m
}

func press(k string) tea.KeyMsg {
	switch k {
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func TestScrollKeepsCursorVisible(t *testing.T) {
	m := newTable(t, 10)
	for range 5 {
		m, _ = m.Update(press("j"))
	}
	if m.Cursor() != 5 {
		t.Fatalf("cursor = %d", m.Cursor())
	}
	v := m.View()
	lines := strings.Split(v, "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), v)
	}
	if !strings.HasPrefix(lines[3], "›   5") {
		t.Errorf("cursor row not last visible:\n%s", v)
	}
	m, _ = m.Update(press("G"))
	if m.Cursor() != 9 || m.Selected()[0] != "9" {
		t.Errorf("G: cursor %d", m.Cursor())
	}
	m, _ = m.Update(press("g"))
	if m.Cursor() != 0 {
		t.Errorf("g: cursor %d", m.Cursor())
	}
	m.Blur()
	if m, _ = m.Update(press("j")); m.Cursor() != 0 {
		t.Error("a blurred table moved")
	}
	if strings.Contains(m.View(), "›") {
		t.Error("a blurred table shows its cursor")
	}
}

func TestWidthsAndHiddenColumns(t *testing.T) {
	m := newTable(t, 1)
	for i, l := range strings.Split(m.View(), "\n") {
		if w := Width(l); w != 20 && strings.TrimSpace(l) != "" {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
	if strings.Contains(m.View(), "HIDDEN") {
		t.Error("a zero-width column is shown")
	}
	if !strings.Contains(m.View(), "row 0 with a…") {
		t.Errorf("long cell not cut:\n%s", m.View())
	}
}

func TestEmpty(t *testing.T) {
	m := newTable(t, 0)
	m.Empty = "nothing here"
	if !strings.Contains(m.View(), "nothing here") || m.Selected() != nil {
		t.Errorf("empty table:\n%s", m.View())
	}
}

func TestWidthCountsSpacingMarks(t *testing.T) {
	// Devanagari vowel signs take a cell in many terminals.
	if got := Width("रोहन"); got != 4 {
		t.Errorf("Width = %d, want 4", got)
	}
	if got := Fit("रोहन मिश्रा", 6); Width(got) > 6 {
		t.Errorf("Fit gave %q, %d wide", got, Width(got))
	}
	if got := Fit("ab", 4); got != "ab  " {
		t.Errorf("Fit pads: %q", got)
	}
}

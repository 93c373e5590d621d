package sparkline

import (
	"testing"

	"github.com/charmbracelet/lipgloss"
)

func TestRender(t *testing.T) {
	plain := lipgloss.NewStyle()
	for _, tc := range []struct {
		in   []float64
		want string
	}{
		{nil, ""},
		{[]float64{0, 0, 0}, "▁▁▁"},
		{[]float64{0, 10, 5, 1}, "▁█▅▃"},
		{[]float64{3, 3}, "██"},
	} {
		if got := Render(tc.in, plain, plain); got != tc.want {
			t.Errorf("Render(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Package sparkline draws a series as one line of block characters, the
// tallest value a full block. Zero is the lowest block, drawn apart from
// every non-zero value so that idle time reads without colour.
package sparkline

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// blocks are the heights, lowest first; blocks[0] is kept for zero.
var blocks = []rune("▁▂▃▄▅▆▇█")

// Render draws values, scaled to their maximum: idle draws zeroes, busy
// the values.
func Render(values []float64, idle, busy lipgloss.Style) string {
	top := 0.0
	for _, v := range values {
		top = max(top, v)
	}
	var b strings.Builder
	for _, v := range values {
		if v <= 0 || top <= 0 {
			b.WriteString(idle.Render(string(blocks[0])))
			continue
		}
		// 1..7: any non-zero value stands above the zero line.
		i := 1 + int(v/top*float64(len(blocks)-2)+0.5)
		b.WriteString(busy.Render(string(blocks[min(i, len(blocks)-1)])))
	}
	return b.String()
}

package validatedata

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"provision/engine/source"
)

func fieldNames() []string { return source.Fields }

// startRun checks the mapping and starts the validation.
func (m *Model) startRun() tea.Cmd {
	if m.in == nil {
		return nil
	}
	if p := mappingProblem(m.cols); p != "" {
		m.setFlash(p, true)
		return nil
	}
	canaries, err := buildCanaries(m.canaries)
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	fieldOf := map[string]string{}
	for _, c := range m.cols {
		fieldOf[c.Name] = c.Field
	}
	m.runID++
	ctx, cancel := context.WithCancel(m.c.Ctx)
	m.cancel = cancel
	m.stopping = false
	m.prog = progressMsg{id: m.runID, size: m.in.size}
	m.step = stepRunning
	m.detail, m.filtering = nil, false
	m.c.Log.Info("validation started", "file", m.in.path, "mapped", len(mappingOf(m.cols)), "canaries", len(m.canaries))
	m.runCh = startRun(ctx, runConfig{
		id:       m.runID,
		path:     m.in.path,
		format:   m.in.format,
		mapping:  mappingOf(m.cols),
		fieldOf:  fieldOf,
		canaries: canaries,
		now:      m.c.Now,
	})
	return waitForRun(m.runCh)
}

func (m *Model) updateRunning(k tea.KeyMsg) tea.Cmd {
	if key.Matches(k, m.c.Keys.Back) && m.cancel != nil && !m.stopping {
		m.stopping = true
		m.cancel()
	}
	return nil
}

// finished takes a run's outcome: the results, or back to the column
// step with the reason it stopped.
func (m *Model) finished(msg doneMsg) tea.Cmd {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.runCh = nil
	switch {
	case errors.Is(msg.err, context.Canceled):
		m.step = stepColumns
		m.setFlash(fmt.Sprintf("Stopped after %d rows; nothing was kept.", m.prog.rows), false)
		m.c.Log.Info("validation stopped", "file", m.in.path, "rows", m.prog.rows)
		return nil
	case msg.err != nil:
		m.step = stepColumns
		m.setFlash(msg.err.Error(), true)
		m.c.Log.Warn("validation failed", "file", m.in.path, "err", msg.err)
		return nil
	}
	r := msg.report
	m.c.Log.Info("validation finished", "file", m.in.path, "rows", r.Rows, "valid", r.Valid,
		"quarantined", r.Quarantined, "warnings", r.Warnings, "elapsed", msg.elapsed)
	m.result = &msg
	m.step = stepResults
	m.tab = tabFindings
	m.detail = nil
	m.filter.SetValue("")
	m.filtering = false
	m.fillResults()
	return nil
}

func base(path string) string { return filepath.Base(path) }

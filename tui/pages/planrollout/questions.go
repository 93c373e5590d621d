package planrollout

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/x/cellbuf"

	"provision/engine/plan/advisor"
)

// item is one step of the questions: the advisor's question, or (when
// the workspace holds several exports) which of them is the sample.
type item struct {
	q      advisor.Question
	sample bool
}

// noSample is the sample choice that plans without data.
const noSample = "-"

// applicable lists the items to ask, in order, given the answers: a
// question whose Skip holds on the answers before it is left out. Items
// not answered yet count with their current (default) value.
func (m *Model) applicable() []int {
	var a advisor.Answers
	var out []int
	for i, it := range m.items {
		if it.sample {
			out = append(out, i)
			continue
		}
		if it.q.Skip(a) {
			continue
		}
		out = append(out, i)
		if v, ok := m.values[it.q.Key]; ok {
			_ = it.q.Set(&a, v)
		}
	}
	return out
}

// answers are the answers given so far. A question that no longer applies
// keeps its zero value, whatever was answered to it before, so going back
// and changing an early answer never leaves a stale later one behind.
func (m *Model) answers() advisor.Answers {
	var a advisor.Answers
	for _, i := range m.applicable() {
		it := m.items[i]
		if it.sample {
			continue
		}
		if v, ok := m.values[it.q.Key]; ok {
			_ = it.q.Set(&a, v)
		}
	}
	return a
}

// position is the current item's place among those asked, and how many
// are asked with the answers so far.
func (m *Model) position() (n, of int) {
	list := m.applicable()
	for i, j := range list {
		if j == m.current {
			return i + 1, len(list)
		}
	}
	return 0, len(list)
}

// next is the first item to ask after the current one, or -1.
func (m *Model) next() int {
	for _, j := range m.applicable() {
		if j > m.current {
			return j
		}
	}
	return -1
}

// prev is the item asked before the current one, or -1.
func (m *Model) prev() int {
	p := -1
	for _, j := range m.applicable() {
		if j >= m.current {
			break
		}
		p = j
	}
	return p
}

// valueOf is the value an item's form starts with: the answer given, else
// the question's default.
func (m *Model) valueOf(i int) string {
	it := m.items[i]
	if it.sample {
		return m.sampleChoice
	}
	if v, ok := m.values[it.q.Key]; ok {
		return v
	}
	return it.q.Get(m.answers())
}

// field builds the form field for item i, bound to m.formValue.
func (m *Model) field(i int) huh.Field {
	it := m.items[i]
	if it.sample {
		opts := make([]huh.Option[string], 0, len(m.exports)+1)
		for _, name := range m.exports {
			opts = append(opts, huh.NewOption(filepath.Base(name), name))
		}
		opts = append(opts, huh.NewOption("none: plan from the answers alone", noSample))
		title, desc := "Which export is the sample?", "It is validated in the background; the recommendation is measured against its data."
		return huh.NewSelect[string]().
			Title(title).
			Description(desc).
			Options(opts...)
	}
	q := it.q
	switch q.Kind {
	case advisor.YesNo, advisor.Choice:
		opts := make([]huh.Option[string], len(q.Options))
		for j, o := range q.Options {
			opts[j] = huh.NewOption(o.Label, o.Value)
		}
		return huh.NewSelect[string]().
			Title(q.Title).
			Description(q.Help).
			Options(opts...)
	}
	// The default shows as the placeholder; an empty answer takes it.
	def := q.Get(advisor.Answers{})
	if m.formValue == def {
		m.formValue = ""
	}
	in := huh.NewInput().
		Title(q.Title).
		Description(q.Help).
		Placeholder(def).
		Value(&m.formValue).
		Validate(func(v string) error {
			if strings.TrimSpace(v) == "" {
				return nil
			}
			return q.Validate(v)
		})
	if q.Kind == advisor.Number {
		in.CharLimit(12)
	} else {
		in.CharLimit(63)
	}
	return in
}

// selectHeight is the height of a select with this title, description
// and number of options, as huh wraps them at the form's width, so that
// every option shows when there is room.
func (m *Model) selectHeight(title, desc string, options int) int {
	w := max(m.formWidth()-2, 10) // the field's border and padding
	lines := func(s string) int { return strings.Count(cellbuf.Wrap(s, w, ",.-; "), "\n") + 1 }
	room := max(m.height-8, 3)
	return lines(title) + lines(desc) + min(options, room)
}

// shownValue is an answer as the summary shows it: the option's label
// for choices, the text otherwise.
func shownValue(it item, v string) string {
	if it.sample {
		if v == noSample {
			return "none"
		}
		return filepath.Base(v)
	}
	for _, o := range it.q.Options {
		if o.Value == v {
			if it.q.Kind == advisor.Choice {
				return o.Value
			}
			return o.Label
		}
	}
	if it.q.Kind == advisor.Number && v == "0" {
		switch it.q.Key {
		case "users":
			return "0 (count the sample)"
		case "active_percent":
			return "0 (unknown)"
		case "deadline_days":
			return "0 (no deadline)"
		}
	}
	return fmt.Sprint(v)
}

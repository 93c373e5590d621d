package planrollout

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"provision/engine/plan"
	"provision/engine/plan/advisor"
	"provision/tui/common"
)

// View draws the current step.
func (m *Model) View() string {
	s := m.c.Styles
	cur := int(m.step)
	if m.step == stepAdvice && m.waiting {
		cur = int(stepQuestions) + 1
	}
	parts := []string{s.StepsView(stepNames, cur), m.sampleLine(), ""}
	switch {
	case m.loading:
		parts = append(parts, s.Muted.Render("Reading the workspace …"))
	case m.form != nil && m.formKind == formStrategy:
		parts = append(parts, m.form.View())
	case m.step == stepQuestions:
		parts = append(parts, m.questionsView())
	case m.step == stepAdvice:
		parts = append(parts, m.adviceView())
	case m.step == stepSaved:
		parts = append(parts, m.savedView())
	}
	if f := s.Flash(m.flash, m.flashError, m.width); f != "" {
		parts = append(parts, "", f)
	}
	return m.c.Clip(strings.Join(parts, "\n"), m.height)
}

// sampleLine says which export the advice is measured against, and how
// far its validation is.
func (m *Model) sampleLine() string {
	s := m.c.Styles
	label := s.Muted.Render("Sample ")
	switch {
	case m.c.Workspace == nil:
		return label + s.Muted.Render("none: without a workspace the advice rests on the answers alone")
	case m.sampleChoice == noSample:
		return label + s.Muted.Render("none: the advice rests on the answers alone")
	case m.sample.running:
		return common.Cut(label+s.Text.Render(m.sample.name)+s.Muted.Render(fmt.Sprintf("  validating … %s rows", common.Count(m.sample.rows))), m.width)
	case m.sample.err != nil:
		return common.Cut(label+s.Text.Render(m.sample.name)+"  "+s.Error.Render("✗ "+m.sample.err.Error()), m.width)
	case m.sample.done:
		d := m.sample.data
		line := label + s.Text.Render(m.sample.name) + "  " + s.OK.Render(fmt.Sprintf("✓ %s rows", common.Count(d.Rows))) +
			s.Muted.Render(fmt.Sprintf(", %s importable, %s quarantined", common.Count(d.Valid), common.Count(d.Quarantined)))
		if n := unimportable(d); n > 0 {
			more := s.Muted.Render(", ") + s.Warn.Render(fmt.Sprintf("%s hashes Auth0 cannot import", common.Count(n)))
			if ansi.StringWidth(line+more) <= m.width {
				line += more
			}
		}
		return common.Cut(line, m.width)
	}
	return label + s.Muted.Render(m.sample.name)
}

// unimportable counts rows whose password hash Auth0 cannot import.
func unimportable(d advisor.Data) int {
	n := 0
	for fam, c := range d.Hashes {
		if fam != "none" && fam != "invalid" && !advisor.Importable(fam) {
			n += c
		}
	}
	return n
}

func (m *Model) questionsView() string {
	s := m.c.Styles
	n, of := m.position()
	head := s.Muted.Render(fmt.Sprintf("Question %d of %d", n, of))
	if m.existing != nil && len(m.values) > 0 {
		head += s.Muted.Render(" · answers start from the saved " + planLabel(m.existing))
	}
	form := ""
	if m.form != nil {
		form = strings.TrimRight(m.form.View(), "\n")
	}
	out := common.Cut(head, m.width) + "\n\n" + form
	// The answers so far, the latest last, as many as fit.
	room := m.height - 3 - (strings.Count(out, "\n") + 1) - 3
	if room < 2 {
		return out
	}
	var lines []string
	for _, i := range m.applicable() {
		if i >= m.current {
			break
		}
		it := m.items[i]
		title := "Which export is the sample?"
		if !it.sample {
			title = it.q.Title
		}
		v := shownValue(it, m.valueOf(i))
		lines = append(lines, s.OK.Render("✓ ")+s.Muted.Render(common.Cut(title, max(m.width-ansi.StringWidth(v)-6, 20)))+"  "+s.Text.Render(v))
	}
	if len(lines) == 0 {
		return out
	}
	if len(lines) > room-1 {
		lines = lines[len(lines)-(room-1):]
	}
	for i := range lines {
		lines[i] = common.Cut(lines[i], m.width)
	}
	return out + "\n\n" + s.Subtitle.Render("Answered") + "\n" + strings.Join(lines, "\n")
}

// adviceHeight is what the scrolling recommendation may take: the body
// less the steps, the sample line, a blank line and the flash.
func (m *Model) adviceHeight() int {
	h := m.height - 3
	if m.flash != "" {
		h -= 1 + strings.Count(m.c.Styles.Flash(m.flash, m.flashError, m.width), "\n") + 1
	}
	if m.confirmReplace {
		h -= 2
	}
	return max(h, 3)
}

func (m *Model) layoutAdvice() {
	m.advice.Width = m.width
	m.advice.Height = m.adviceHeight()
	if m.plan != nil || m.planErr != nil {
		m.fillAdvice()
	}
}

func (m *Model) adviceView() string {
	s := m.c.Styles
	if m.waiting {
		what := "Validating the sample"
		if m.sample.done || m.sample.rule.String() != "" {
			what = fmt.Sprintf("Validating the sample under the username rule %s", m.sample.rule)
		}
		return s.Muted.Render(what+fmt.Sprintf(" … %s rows; the recommendation follows.", common.Count(m.sample.rows))) + "\n\n" +
			s.Muted.Render("esc changes the answers meanwhile.")
	}
	out := m.advice.View()
	if m.confirmReplace {
		out += "\n\n" + s.Prompt.Render(fmt.Sprintf("%s exists (%s). Replace it and its artifacts?", "plan.yaml", m.existingTitle())) +
			"  " + s.Key.Render("y") + s.Muted.Render(" replace · ") + s.Key.Render("n") + s.Muted.Render(" keep it")
	}
	return out
}

func (m *Model) existingTitle() string {
	if m.existing == nil {
		return "a plan"
	}
	return m.existing.Strategy.Title()
}

// fillAdvice writes the recommendation into the scrolling view.
func (m *Model) fillAdvice() {
	m.advice.Width, m.advice.Height = m.width, m.adviceHeight()
	m.advice.SetContent(m.adviceContent())
}

// bullet draws text after a marker, wrapped with a hanging indent.
func (m *Model) bullet(marker string, st lipgloss.Style, text string) string {
	w := max(m.width-ansi.StringWidth(marker)-1, 20)
	return lipgloss.JoinHorizontal(lipgloss.Top, marker, st.Width(w).Render(text))
}

func (m *Model) adviceContent() string {
	s := m.c.Styles
	if m.planErr != nil && m.plan == nil {
		return s.Error.Width(m.width).Render("✗ No plan can be made from these answers: "+m.planErr.Error()) + "\n\n" +
			s.Muted.Render("esc changes the answers.")
	}
	r, p := m.rec, m.plan
	var b []string
	b = append(b, s.Title.Render("Recommended: "+r.Strategy.Title())+s.Muted.Render(" · decision rule "+r.Rule))
	if p.Strategy != r.Strategy {
		b = append(b, m.bullet("! ", s.Warn, fmt.Sprintf("The plan uses %s, as you chose; the report keeps the recommendation.", p.Strategy.Title())))
	}
	for _, reason := range r.Reasons {
		b = append(b, m.bullet(s.Accent.Render("• "), s.Text, reason))
	}
	if len(r.Alternatives) > 0 {
		b = append(b, "", s.Subtitle.Render("Alternatives, best first"))
		for i, alt := range r.Alternatives {
			mark, note := s.OK.Render("✓"), s.Muted.Render("possible here")
			if !alt.Viable {
				mark, note = s.Error.Render("✗"), s.Muted.Render("cannot work here")
			}
			b = append(b, fmt.Sprintf("%s %s %s  %s", s.Muted.Render(fmt.Sprintf("%d.", i+2)), mark, s.Bold.Render(alt.Strategy.Title()), note))
			b = append(b, m.bullet("     ", s.Muted, alt.Reason))
		}
	}
	if len(r.Additions) > 0 {
		b = append(b, "", s.Subtitle.Render("Also"))
		for _, a := range r.Additions {
			b = append(b, m.bullet(s.Accent.Render("+ "), s.Text, a))
		}
	}
	if len(r.Risks) > 0 {
		b = append(b, "", s.Subtitle.Render("Risks"))
		for _, risk := range r.Risks {
			b = append(b, m.bullet(s.Warn.Render("! "), s.Text, risk))
		}
	}
	b = append(b, "", s.Subtitle.Render("The plan"))
	label := func(l string) string { return s.Muted.Render(fmt.Sprintf("%-10s", l)) }
	if p.Strategy.Imports() {
		b = append(b, m.bullet(label("Stages"), s.Text, stagesText(p.Stages)))
	}
	level := p.Policy.PasswordStrength
	user := fmt.Sprintf("usernames optional, %d to %d characters", p.Policy.UsernameMin, p.Policy.UsernameMax)
	if p.Policy.UsernameRequired {
		user = fmt.Sprintf("usernames required, %d to %d characters", p.Policy.UsernameMin, p.Policy.UsernameMax)
	}
	b = append(b, m.bullet(label("Passwords"), s.Text, fmt.Sprintf("%s: %s", level, level.Rule())))
	b = append(b, m.bullet(label("Usernames"), s.Text, user))
	if p.Legacy != nil {
		b = append(b, m.bullet(label("Scripts"), s.Text, fmt.Sprintf("custom database scripts for %s, table %s", p.Legacy.Database, p.Legacy.Table)))
	}
	if d := p.Data; d.Sampled() {
		b = append(b, m.bullet(label("Data"), s.Text, dataText(d)))
	}
	target := "the built-in sandbox (no tenant named yet)"
	if p.Target.Spec != "" {
		target = p.Target.Spec
	}
	if p.Target.Connection != "" {
		target += ", connection " + p.Target.Connection
	}
	b = append(b, m.bullet(label("Target"), s.Text, target))
	b = append(b, "", s.Muted.Width(m.width).Render("s writes plan.yaml, recommendation.md and the strategy's files into the workspace; o plans with another strategy."))
	return strings.Join(b, "\n")
}

// stagesText describes the stages in words.
func stagesText(stages []plan.StagePlan) string {
	parts := make([]string, len(stages))
	for i, st := range stages {
		size := st.Size()
		switch {
		case st.Rest:
			size = "everyone left"
		case st.Percent > 0:
			size += " of the users"
		default:
			size += " users"
		}
		parts[i] = fmt.Sprintf("%s: %s, gate ≤%s failed", st.Name, size, common.Percent(st.MaxFailureRate))
		if st.Approve {
			parts[i] += ", waits for approval"
		}
	}
	return strings.Join(parts, " → ")
}

// dataText summarises the sample's counts.
func dataText(d advisor.Data) string {
	t := fmt.Sprintf("%s rows: %s importable, %s quarantined", common.Count(d.Rows), common.Count(d.Valid), common.Count(d.Quarantined))
	if d.Duplicates > 0 {
		t += fmt.Sprintf(" (%s duplicates)", common.Count(d.Duplicates))
	}
	var fams []string
	for f := range d.Hashes {
		if f != "none" && f != "invalid" && !advisor.Importable(f) {
			fams = append(fams, f)
		}
	}
	slices.Sort(fams)
	if n := unimportable(d); n > 0 {
		t += fmt.Sprintf("; %s passwords in forms Auth0 cannot import (%s)", common.Count(n), strings.Join(fams, ", "))
	}
	return t
}

func (m *Model) savedView() string {
	s := m.c.Styles
	ws := m.c.Workspace
	var b []string
	b = append(b, s.OK.Render(fmt.Sprintf("✓ Saved the plan (%s) into %s/", m.plan.Strategy.Title(), ws.Dir())))
	for _, f := range m.written {
		b = append(b, "    "+s.Text.Render(f))
	}
	b = append(b, "")
	if m.plan.Strategy.Imports() {
		b = append(b, m.bullet(s.Accent.Render("› "), s.Text, "Next: enter opens Run migration, which imports the users in the plan's stages: "+stagesText(m.plan.Stages)+"."))
	}
	b = append(b, m.bullet(s.Accent.Render("› "), s.Text, "Hand "+plan.RecommendationFile+" to the client; provision apply --plan "+ws.PlanPath()+" sets the connection's options."))
	return strings.Join(b, "\n")
}

package statusreports

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"provision/engine/run/reconcile"
	"provision/storage"
	"provision/tui/common"
)

// View draws the reconciliation, the tabs and the flash.
func (m *Model) View() string {
	s := m.c.Styles
	w := min(m.width, 76)
	if m.c.Workspace == nil {
		return s.Title.Render("Status & reports") + "\n\n" +
			s.Muted.Width(w).Render("The status comes from a run's journal, which lives in a workspace, and there is none: go back and set one up from the home page (w).")
	}
	d := m.data
	switch {
	case m.loading && !d.exists && d.report == nil:
		return s.Muted.Render("Reading the journal …")
	case !d.exists:
		return s.Title.Render("No run yet") + "\n\n" +
			s.Muted.Width(w).Render("Run migration imports the users and keeps a journal of every one of them; this page reconciles it: every source row in exactly one bucket, the failures by code, and the reports to hand over.")
	case d.err != nil && d.report == nil && d.live == nil && d.holder != nil && d.holder.PID == os.Getpid():
		return s.Title.Render("A run is starting") + "\n\n" +
			s.Muted.Width(w).Render("Run migration is registering the export's rows; its status shows here once the first job settles (r refreshes).")
	case d.err != nil && d.report == nil && d.live == nil:
		return s.Flash(d.err.Error(), true, m.width)
	}
	parts := []string{m.headline(), common.Cut(m.routeLine(), m.width), ""}
	parts = append(parts, m.bucketLines()...)
	parts = append(parts, "", s.TabsView(m.tabNames(), int(m.tab)))
	if m.form != nil {
		parts = append(parts, "", m.form.View())
	} else {
		parts = append(parts, strings.TrimRight(m.tables[m.tab].View(), "\n"))
	}
	if m.flash != "" {
		parts = append(parts, "", s.Flash(m.flash, m.flashError, m.width))
	}
	return m.c.Clip(strings.Join(parts, "\n"), m.height)
}

func (m *Model) headline() string {
	s := m.c.Styles
	d := m.data
	if d.live != nil {
		who := "another process"
		if d.holder != nil {
			who = fmt.Sprintf("PID %d", d.holder.PID)
			if d.holder.PID == os.Getpid() {
				who = "Run migration, here"
			}
		}
		return common.Cut(s.Accent.Render(fmt.Sprintf("● A run is active (%s); its status as of %s. The reconciliation follows when it stops.",
			who, d.asOf.Local().Format("15:04:05"))), m.width)
	}
	r := d.report
	if r.Complete {
		return common.Cut(s.OK.Render("✓ The run is finished: every source row is accounted for"), m.width)
	}
	return common.Cut(s.Warn.Render(fmt.Sprintf("‖ The run is not finished: %s rows wait for an outcome", common.Count(r.Buckets[reconcile.NotMigrated]))), m.width)
}

func (m *Model) routeLine() string {
	s := m.c.Styles
	meta := m.data.meta
	src := common.DisplayPath(meta.Source.Path)
	if ws := m.c.Workspace; ws != nil {
		if abs, err := filepath.Abs(ws.Dir()); err == nil {
			if rel, err := filepath.Rel(abs, meta.Source.Path); err == nil && filepath.IsLocal(rel) {
				src = filepath.ToSlash(rel)
			}
		}
	}
	if meta.Source.SHA256 != "" {
		src += s.Muted.Render(fmt.Sprintf(" (sha256 %.12s…)", meta.Source.SHA256))
	}
	to := meta.Settings.Target
	if meta.Settings.ConnectionID != "" {
		to += " · " + meta.Settings.ConnectionID
	}
	return s.Text.Render(src) + s.Muted.Render(" → ") + s.Text.Render(to)
}

// bucketRow is one line of the reconciliation.
type bucketRow struct {
	mark   string
	label  string
	n      int
	always bool
	style  lipgloss.Style
}

// bucketLines are the reconciliation: the five buckets every run has,
// the two an unfinished or rolled-back run has, and their sum against the
// source's rows.
func (m *Model) bucketLines() []string {
	s := m.c.Styles
	d := m.data
	var counts map[reconcile.Bucket]int
	rows := 0
	switch {
	case d.report != nil:
		counts, rows = d.report.Buckets, d.report.Rows
	case d.live != nil:
		counts = map[reconcile.Bucket]int{}
		for st, n := range d.live.Users {
			counts[reconcile.BucketOf(st)] += n
		}
		rows = d.live.Users.Total()
	default:
		return nil
	}
	list := []bucketRow{
		{"✓", "inserted", counts[reconcile.Inserted], true, s.OK},
		{"~", "updated", counts[reconcile.Updated], true, s.Text},
		{"✗", "failed", counts[reconcile.Failed], true, s.Error},
		{"!", "quarantined", counts[reconcile.Quarantined], true, s.Warn},
		{"=", "skipped", counts[reconcile.Skipped], true, s.Muted},
		{"…", "not migrated yet", counts[reconcile.NotMigrated], false, s.Accent},
		{"↺", "rolled back", counts[reconcile.RolledBack], false, s.Warn},
	}
	barW := max(min(m.width-40, 30), 0)
	lines := []string{s.TableHeader.Render(fmt.Sprintf("  %-18s %7s  %6s", "BUCKET", "ROWS", "SHARE"))}
	sum := 0
	for _, b := range list {
		sum += b.n
		if !b.always && b.n == 0 {
			continue
		}
		share := "—"
		if rows > 0 {
			share = common.Percent(float64(b.n) / float64(rows))
		}
		line := "  " + b.style.Render(fmt.Sprintf("%s %-16s", b.mark, b.label)) + s.TableCell.Render(fmt.Sprintf(" %7s  %6s", common.Count(b.n), share))
		if barW > 0 && rows > 0 && b.n > 0 {
			line += "  " + b.style.Render(strings.Repeat("█", max(1, b.n*barW/rows)))
		}
		lines = append(lines, common.Cut(line, m.width))
	}
	lines = append(lines, s.Faint.Render("  "+strings.Repeat("─", 35)))
	check := s.OK.Render("✓ every row in exactly one bucket")
	label := "source rows"
	if d.report == nil {
		label, check = "rows so far", s.Muted.Render("registered so far")
	} else if sum != rows {
		check = s.Error.Render(fmt.Sprintf("✗ the buckets add up to %d", sum))
	}
	lines = append(lines, common.Cut("  "+s.Bold.Render(fmt.Sprintf("%-18s %7s", label, common.Count(rows)))+"  "+check, m.width))
	return lines
}

func (m *Model) tabNames() []string {
	d := m.data
	stages, failed, quarantined := 0, 0, 0
	switch {
	case d.report != nil:
		stages = len(d.report.Stages)
		failed, quarantined = d.report.Buckets[reconcile.Failed], d.report.Buckets[reconcile.Quarantined]
	case d.live != nil:
		stages = len(d.live.Stages)
		failed, quarantined = d.live.Users[storage.UserFailed], d.live.Users[storage.UserQuarantined]
	}
	if m.width < 100 {
		return []string{fmt.Sprintf("Stages %d", stages), fmt.Sprintf("Failed %d", failed),
			fmt.Sprintf("Quarantined %d", quarantined), "Failed users"}
	}
	return []string{fmt.Sprintf("Stages %d", stages), fmt.Sprintf("Failed by code %d", failed),
		fmt.Sprintf("Quarantined by code %d", quarantined), fmt.Sprintf("Failed users %d", failed)}
}

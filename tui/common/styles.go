package common

import (
	"github.com/charmbracelet/bubbles/filepicker"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
)

// Palette: every colour adapts to light and dark terminals, and nothing
// depends on colour alone (markers and words carry the meaning), so the
// screens read the same with NO_COLOR.
var (
	colorText   = lipgloss.AdaptiveColor{Light: "#1C1C1C", Dark: "#E4E4E4"}
	colorMuted  = lipgloss.AdaptiveColor{Light: "#626262", Dark: "#9E9E9E"}
	colorFaint  = lipgloss.AdaptiveColor{Light: "#A8A8A8", Dark: "#585858"}
	colorAccent = lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#8B87FF"}
	colorPink   = lipgloss.AdaptiveColor{Light: "#C2267A", Dark: "#F780E2"}
	colorOK     = lipgloss.AdaptiveColor{Light: "#007A4D", Dark: "#3FD69B"}
	colorError  = lipgloss.AdaptiveColor{Light: "#C4003A", Dark: "#FF6B8B"}
	colorWarn   = lipgloss.AdaptiveColor{Light: "#A15C00", Dark: "#FFB454"}
	colorPill   = lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#FFFFFF"}
	colorPillBg = lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#5A56E0"}
)

// Styles is every style the assistant draws with. It is built from one
// renderer so that each SSH session renders with its own terminal's
// colour profile and background, never the server's.
type Styles struct {
	Renderer *lipgloss.Renderer

	// Header.
	Brand      lipgloss.Style // the "provision" pill
	Crumb      lipgloss.Style // current page
	CrumbSep   lipgloss.Style
	StatusKey  lipgloss.Style // "plan"
	StatusVal  lipgloss.Style // "none yet"
	StatusSep  lipgloss.Style
	HeaderRule lipgloss.Style

	// Text.
	Title    lipgloss.Style
	Subtitle lipgloss.Style
	Text     lipgloss.Style
	Muted    lipgloss.Style
	Faint    lipgloss.Style
	Accent   lipgloss.Style
	Bold     lipgloss.Style
	OK       lipgloss.Style
	Error    lipgloss.Style
	Warn     lipgloss.Style
	Code     lipgloss.Style // finding codes, field names
	Key      lipgloss.Style // a key named in prose ("press enter")
	Masked   lipgloss.Style

	// Menus and lists.
	Cursor           lipgloss.Style // the "›" marker
	ItemTitle        lipgloss.Style
	ItemTitleActive  lipgloss.Style
	ItemDesc         lipgloss.Style
	ItemDescActive   lipgloss.Style
	ItemBar          lipgloss.Style // left bar of the selected menu item
	ItemDisabledNote lipgloss.Style

	// Tables.
	TableHeader   lipgloss.Style
	TableCell     lipgloss.Style
	TableSelected lipgloss.Style

	// Tabs and steps.
	TabActive   lipgloss.Style
	TabInactive lipgloss.Style
	TabSep      lipgloss.Style
	StepDone    lipgloss.Style
	StepCurrent lipgloss.Style
	StepTodo    lipgloss.Style

	// Panels.
	Panel        lipgloss.Style // rounded box
	PanelFocused lipgloss.Style
	PanelTitle   lipgloss.Style

	// Footer.
	Footer      lipgloss.Style
	Prompt      lipgloss.Style // the quit question
	FlashOK     lipgloss.Style
	FlashError  lipgloss.Style
	FilterLabel lipgloss.Style

	Help help.Styles

	// Progress bar colours (hex), for bubbles/progress.
	ProgressFull  string
	ProgressEmpty string
}

// DefaultStyles builds the styles for renderer r.
func DefaultStyles(r *lipgloss.Renderer) *Styles {
	s := &Styles{Renderer: r}
	ns := r.NewStyle

	s.Brand = ns().Bold(true).Foreground(colorPill).Background(colorPillBg).Padding(0, 1)
	s.Crumb = ns().Bold(true).Foreground(colorText)
	s.CrumbSep = ns().Foreground(colorFaint)
	s.StatusKey = ns().Foreground(colorMuted)
	s.StatusVal = ns().Foreground(colorText)
	s.StatusSep = ns().Foreground(colorFaint)
	s.HeaderRule = ns().Foreground(colorFaint)

	s.Title = ns().Bold(true).Foreground(colorAccent)
	s.Subtitle = ns().Foreground(colorMuted)
	s.Text = ns().Foreground(colorText)
	s.Muted = ns().Foreground(colorMuted)
	s.Faint = ns().Foreground(colorFaint)
	s.Accent = ns().Foreground(colorAccent)
	s.Bold = ns().Bold(true)
	s.OK = ns().Foreground(colorOK)
	s.Error = ns().Foreground(colorError)
	s.Warn = ns().Foreground(colorWarn)
	s.Code = ns().Foreground(colorPink)
	s.Key = ns().Bold(true).Foreground(colorText)
	s.Masked = ns().Foreground(colorMuted)

	s.Cursor = ns().Bold(true).Foreground(colorPink)
	s.ItemTitle = ns().Foreground(colorText)
	s.ItemTitleActive = ns().Bold(true).Foreground(colorPink)
	s.ItemDesc = ns().Foreground(colorMuted)
	s.ItemDescActive = ns().Foreground(colorAccent)
	s.ItemBar = ns().Foreground(colorPink)
	s.ItemDisabledNote = ns().Foreground(colorFaint).Italic(true)

	s.TableHeader = ns().Bold(true).Foreground(colorMuted)
	s.TableCell = ns().Foreground(colorText)
	s.TableSelected = ns().Bold(true).Foreground(colorPink)

	s.TabActive = ns().Bold(true).Foreground(colorPink)
	s.TabInactive = ns().Foreground(colorMuted)
	s.TabSep = ns().Foreground(colorFaint)
	s.StepDone = ns().Foreground(colorOK)
	s.StepCurrent = ns().Bold(true).Foreground(colorPink)
	s.StepTodo = ns().Foreground(colorMuted)

	s.Panel = ns().Border(lipgloss.RoundedBorder()).BorderForeground(colorFaint).Padding(0, 1)
	s.PanelFocused = s.Panel.BorderForeground(colorAccent)
	s.PanelTitle = ns().Bold(true).Foreground(colorAccent)

	s.Footer = ns().Foreground(colorMuted)
	s.Prompt = ns().Bold(true).Foreground(colorWarn)
	s.FlashOK = ns().Foreground(colorOK)
	s.FlashError = ns().Foreground(colorError)
	s.FilterLabel = ns().Bold(true).Foreground(colorAccent)

	s.Help = help.Styles{
		Ellipsis:       ns().Foreground(colorFaint),
		ShortKey:       ns().Foreground(colorMuted).Bold(true),
		ShortDesc:      ns().Foreground(colorMuted),
		ShortSeparator: ns().Foreground(colorFaint),
		FullKey:        ns().Foreground(colorMuted).Bold(true),
		FullDesc:       ns().Foreground(colorMuted),
		FullSeparator:  ns().Foreground(colorFaint),
	}

	if r.HasDarkBackground() {
		s.ProgressFull, s.ProgressEmpty = colorAccent.Dark, colorFaint.Dark
	} else {
		s.ProgressFull, s.ProgressEmpty = colorAccent.Light, colorFaint.Light
	}
	return s
}

// NewHelp returns a help model drawn with these styles.
func (s *Styles) NewHelp() help.Model {
	h := help.New()
	h.Styles = s.Help
	return h
}

// FilePicker returns bubbles/filepicker styles drawn with these styles
// (its defaults use the global renderer and fixed colours).
func (s *Styles) FilePicker() filepicker.Styles {
	ns := s.Renderer.NewStyle
	return filepicker.Styles{
		DisabledCursor:   ns().Foreground(colorFaint),
		Cursor:           s.Cursor,
		Symlink:          ns().Foreground(colorAccent),
		Directory:        ns().Foreground(colorAccent).Bold(true),
		File:             s.Text,
		DisabledFile:     ns().Foreground(colorFaint),
		Permission:       s.Faint,
		Selected:         s.ItemTitleActive,
		DisabledSelected: ns().Foreground(colorFaint),
		FileSize:         ns().Foreground(colorMuted).Width(7).Align(lipgloss.Right),
		EmptyDirectory:   s.Muted.PaddingLeft(2),
	}
}

// HuhTheme returns a huh theme drawn with these styles. huh's own themes
// are built on the global renderer; every style here is rebuilt on ours.
func (s *Styles) HuhTheme() *huh.Theme {
	ns := s.Renderer.NewStyle
	t := &huh.Theme{}
	t.Form.Base = ns()
	t.Group.Base = ns()
	t.Group.Title = s.Title
	t.Group.Description = s.Muted
	t.FieldSeparator = ns().SetString("\n\n")

	button := ns().Padding(0, 2).MarginRight(1)
	f := &t.Focused
	f.Base = ns().PaddingLeft(1).BorderStyle(lipgloss.ThickBorder()).BorderLeft(true).BorderForeground(colorAccent)
	f.Card = f.Base
	f.Title = ns().Bold(true).Foreground(colorAccent)
	f.NoteTitle = f.Title.MarginBottom(1)
	f.Description = s.Muted
	f.ErrorIndicator = ns().Foreground(colorError).SetString(" *")
	f.ErrorMessage = ns().Foreground(colorError).SetString(" *")
	f.SelectSelector = ns().Foreground(colorPink).SetString("› ")
	f.Option = s.Text
	f.NextIndicator = ns().Foreground(colorPink).MarginLeft(1).SetString("→")
	f.PrevIndicator = ns().Foreground(colorPink).MarginRight(1).SetString("←")
	f.Directory = ns().Foreground(colorAccent)
	f.File = s.Text
	f.MultiSelectSelector = ns().Foreground(colorPink).SetString("› ")
	f.SelectedOption = ns().Foreground(colorOK)
	f.SelectedPrefix = ns().Foreground(colorOK).SetString("[x] ")
	f.UnselectedOption = s.Text
	f.UnselectedPrefix = ns().Foreground(colorMuted).SetString("[ ] ")
	f.TextInput = huh.TextInputStyles{
		Cursor:      ns().Foreground(colorPink),
		CursorText:  ns(),
		Placeholder: s.Faint,
		Prompt:      ns().Foreground(colorPink),
		Text:        s.Text,
	}
	f.FocusedButton = button.Foreground(colorPill).Background(colorPillBg).Bold(true)
	f.BlurredButton = button.Foreground(colorText).Background(lipgloss.AdaptiveColor{Light: "#E4E4E4", Dark: "#3A3A3A"})
	f.Next = f.FocusedButton

	t.Blurred = *f
	t.Blurred.Base = f.Base.BorderStyle(lipgloss.HiddenBorder())
	t.Blurred.Card = t.Blurred.Base
	t.Blurred.Title = ns().Foreground(colorMuted)
	t.Blurred.NextIndicator = ns()
	t.Blurred.PrevIndicator = ns()
	t.Blurred.MultiSelectSelector = ns().SetString("  ")
	t.Blurred.SelectSelector = ns().SetString("  ")
	t.Blurred.TextInput.Prompt = ns().Foreground(colorMuted)

	t.Help = s.Help
	return t
}

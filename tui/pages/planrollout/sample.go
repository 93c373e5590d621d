package planrollout

import (
	"context"
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"provision/engine/plan/advisor"
	"provision/engine/plan/policy"
	"provision/engine/run"
	"provision/engine/source"
	"provision/engine/validate"
)

// The sample's validation runs in the background while the operator
// answers, as provision plan --sample does: the advisor reads its counts
// (hash families, findings, usernames), never a user's data.

// sampleProgressMsg reports rows validated so far.
type sampleProgressMsg struct {
	id   int
	rows int
}

// sampleDoneMsg ends a sample's validation.
type sampleDoneMsg struct {
	id     int
	data   advisor.Data
	header []string
	format string
	rule   policy.Username
	err    error
}

// sampleInterval is how often the validation reports progress.
const sampleInterval = 100 * time.Millisecond

// startSample validates path under the username rule in a goroutine and
// streams its progress, then exactly one sampleDoneMsg, on the returned
// channel, which then closes.
func startSample(ctx context.Context, id int, path, name string, rule policy.Username) <-chan tea.Msg {
	ch := make(chan tea.Msg, 1)
	go func() {
		defer close(ch)
		done := validateSample(ctx, id, path, name, rule, ch)
		select {
		case ch <- done:
		case <-ctx.Done():
			select {
			case ch <- done:
			default:
			}
		}
	}()
	return ch
}

func validateSample(ctx context.Context, id int, path, name string, rule policy.Username, ch chan tea.Msg) sampleDoneMsg {
	done := sampleDoneMsg{id: id, rule: rule}
	r, closer, err := source.Open(path, source.Options{})
	if err != nil {
		done.err = err
		return done
	}
	defer closer.Close()
	tally := advisor.Tally{Username: rule}
	last := time.Now()
	rep, err := validate.Run(ctx, r, validate.RunOptions{
		Options:     validate.Options{Username: validate.UsernamePolicy{Min: rule.Min, Max: rule.Max}},
		File:        name,
		MaxFindings: 1,
		OnResult: func(res *validate.Result) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return tally.Add(res)
		},
		ProgressEvery: 50,
		OnProgress: func(rows int) {
			if time.Since(last) < sampleInterval {
				return
			}
			last = time.Now()
			select {
			case ch <- sampleProgressMsg{id: id, rows: rows}:
			default: // the screen has not taken the last one: skip this one
			}
		},
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = context.Canceled
		}
		done.err = err
		return done
	}
	done.data = tally.Data(rep)
	done.data.File = name
	done.header = r.Header()
	done.format = string(r.Format())
	if fp, err := run.Fingerprint(ctx, path); err != nil {
		done.err = err
	} else {
		done.data.SHA256 = fp.SHA256
	}
	return done
}

// waitFor reads the next message of a background job; Update re-arms it
// after each progress message.
func waitFor(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}

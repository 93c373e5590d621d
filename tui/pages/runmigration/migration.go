package runmigration

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"provision/engine/run"
)

// Migration is the run of one workspace shared by several assistants (the
// sessions of provision serve): the engine, the latest progress for pages
// that open later, the events for pages that follow it, and the built-in
// sandbox. A run started through it lives under the context its starter
// gives (the server's, not the session's), so it goes on when the session
// that started it ends. Without one, each Run migration page owns its run,
// and pauses it when its program ends.
type Migration struct {
	mu     sync.Mutex
	tenant *tenant
	live   *liveRun
}

// NewMigration returns the shared run of one workspace; Close releases
// the built-in sandbox once the runs have stopped.
func NewMigration() *Migration { return &Migration{} }

// Close closes the built-in sandbox. Call it once the runs have stopped.
func (g *Migration) Close() {
	g.mu.Lock()
	t := g.tenant
	g.tenant = nil
	g.mu.Unlock()
	t.close()
}

// liveRun is the run in progress.
type liveRun struct {
	eng      Engine
	conn     *conn
	resumed  bool
	operator string
	snap     *runState
	subs     map[*follower]struct{}
}

// follower feeds one page's session the run's events, without ever making
// the engine wait for a slow or gone screen.
type follower struct {
	mu    sync.Mutex
	queue []run.Event
	end   *runDoneMsg
	wake  chan struct{}
	quit  chan struct{}
	sess  *session
}

func newFollower(gen int) *follower {
	f := &follower{wake: make(chan struct{}, 1), quit: make(chan struct{}), sess: newSession(gen, make(chan run.Event, 64))}
	go f.forward()
	return f
}

func (f *follower) push(ev run.Event) {
	f.mu.Lock()
	f.queue = append(f.queue, ev)
	f.mu.Unlock()
	f.signal()
}

func (f *follower) finish(msg runDoneMsg) {
	f.mu.Lock()
	f.end = &msg
	f.mu.Unlock()
	f.signal()
}

func (f *follower) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// forward hands the queued events to the page's session in order, then
// how the run ended.
func (f *follower) forward() {
	for {
		f.mu.Lock()
		q, end := f.queue, f.end
		f.queue = nil
		f.mu.Unlock()
		for _, ev := range q {
			select {
			case f.sess.events <- ev:
			case <-f.quit:
				return
			}
		}
		if end != nil && len(q) == 0 {
			close(f.sess.events)
			f.sess.finish(*end)
			return
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-f.wake:
		case <-f.quit:
			return
		}
	}
}

// errBusy is returned when a run is started while one runs.
var errBusy = errors.New("a run is already in progress for this workspace")

// start runs eng through goFn (the server's background work) and returns
// the starting page's follower. snap is the page's progress as the run
// starts.
func (g *Migration) start(goFn func(what string, fn func(context.Context) error) error, gen int, eng Engine, events chan run.Event, c *conn, t *tenant, resumed bool, operator string, snap *runState) (*session, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.live != nil {
		return nil, errBusy
	}
	if t != nil {
		g.tenant = t
	}
	l := &liveRun{eng: eng, conn: c, resumed: resumed, operator: operator, snap: snap.clone(), subs: map[*follower]struct{}{}}
	f := newFollower(gen)
	l.subs[f] = struct{}{}
	err := goFn("migration", func(ctx context.Context) error {
		pumped := make(chan struct{})
		go func() {
			defer close(pumped)
			for ev := range events {
				g.mu.Lock()
				l.snap.apply(ev, time.Now())
				for s := range l.subs {
					s.push(ev)
				}
				g.mu.Unlock()
			}
		}()
		res, err := eng.Run(ctx)
		close(events)
		<-pumped
		g.mu.Lock()
		for s := range l.subs {
			s.finish(runDoneMsg{gen: s.sess.gen, res: res, err: err})
		}
		g.live = nil
		g.mu.Unlock()
		return err
	})
	if err != nil {
		close(f.quit)
		return nil, err
	}
	g.live = l
	return f.sess, nil
}

// follow returns a session following the run in progress from now on,
// with the progress so far; nil when nothing runs.
func (g *Migration) follow(gen int) (*session, *liveRun, *runState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.live
	if l == nil {
		return nil, nil, nil
	}
	f := newFollower(gen)
	l.subs[f] = struct{}{}
	return f.sess, l, l.snap.clone()
}

// leave stops feeding sess (its page's program ended); the run goes on.
func (g *Migration) leave(sess *session) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.live == nil {
		return
	}
	for f := range g.live.subs {
		if f.sess == sess {
			delete(g.live.subs, f)
			close(f.quit)
		}
	}
}

// sandbox is the built-in sandbox the workspace's runs use, if it is up.
func (g *Migration) sandbox() *tenant {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.tenant
}

func (g *Migration) setSandbox(t *tenant) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tenant == nil {
		g.tenant = t
	}
}

// clone copies the progress, for another page.
func (p *runState) clone() *runState {
	c := *p
	c.stages = make([]*stageRow, len(p.stages))
	for i, s := range p.stages {
		r := *s
		r.counts = maps.Clone(s.counts)
		c.stages[i] = &r
	}
	c.counts = maps.Clone(p.counts)
	c.flights = maps.Clone(p.flights)
	c.verified = maps.Clone(p.verified)
	c.points = slices.Clone(p.points)
	c.log = slices.Clone(p.log)
	return &c
}

package workspace

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// Logger returns a logger for the workspace at dir. The assistant logs
// there while it owns the terminal, since anything written to the screen
// would tear its frame. It works whether or not the workspace exists yet:
// records are appended to logs/provision.log (0600) from the moment the
// directory exists (the demo may create it mid-session) and dropped
// before. Callers log counts, paths and codes, never secrets.
func Logger(dir string, level slog.Level) (*slog.Logger, io.Closer) {
	w := &lazyLog{path: filepath.Join(dir, LogsDir, LogFile), dir: dir}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), w
}

// lazyLog opens its file on the first write after the workspace exists.
type lazyLog struct {
	mu   sync.Mutex
	dir  string
	path string
	f    *os.File
}

func (l *lazyLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		if !Exists(l.dir) {
			return len(p), nil
		}
		if err := os.MkdirAll(filepath.Dir(l.path), dirMode); err != nil {
			return len(p), nil
		}
		f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, fileMode)
		if err != nil {
			return len(p), nil // logging must never break the session
		}
		l.f = f
	}
	return l.f.Write(p)
}

func (l *lazyLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

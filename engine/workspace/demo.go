package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"provision/engine/atomicfile"
	"provision/fixtures"
)

// Names of the demo files inside a workspace.
const (
	DemoExportName      = fixtures.DemoUsersFile
	DemoCredentialsName = fixtures.DemoCredentialsFile
)

// InitDemo creates the workspace at dir, if needed, and writes the bundled
// demo export and its canary credentials into it. Files already there are
// kept as they are, so a demo the operator edited is not overwritten.
func InitDemo(dir string) (*Workspace, error) {
	w, err := Create(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{
		{w.DemoExportPath(), fixtures.DemoUsers},
		{w.DemoCredentialsPath(), fixtures.DemoCredentials},
	} {
		if err := writeNew(f.path, f.data); err != nil {
			return nil, fmt.Errorf("setting up the demo workspace: %w", err)
		}
	}
	return w, nil
}

// writeNew writes data to a new file at path with mode 0600, leaving an
// existing file untouched. The data goes to a temporary file first, so a
// crash never leaves half a file under the real name.
func writeNew(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.Write(path, data, fileMode)
}

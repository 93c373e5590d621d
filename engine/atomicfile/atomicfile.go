// Package atomicfile replaces a file's contents so that a crash leaves
// either the old file or the new one, never half of one: plan files,
// import files, manifests and the demo workspace are all written this way.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// Write writes data to a temporary file beside path, syncs it, gives it
// mode and renames it over path, then syncs the directory so the new name
// survives a power cut.
func Write(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, File{Path: path, Data: data}, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(dir)
	return nil
}

// File is one file of WriteMany.
type File struct {
	Path string
	Data []byte
}

// WriteMany writes files into one directory as Write does each, but with
// the directory synced once for all of them, and up to `parallel` files
// written at a time so that one file's sync overlaps the next one's
// writing. After an error, some files may have been replaced.
func WriteMany(dir string, files []File, mode os.FileMode, parallel int) error {
	temps := make([]string, len(files))
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(parallel, len(files))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				temps[i], errs[i] = writeTemp(dir, files[i], mode)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, t := range temps {
			if t != "" {
				os.Remove(t)
			}
		}
		return err
	}
	for i, f := range files {
		if err := os.Rename(temps[i], f.Path); err != nil {
			for _, t := range temps[i:] {
				os.Remove(t)
			}
			return err
		}
	}
	syncDir(dir)
	return nil
}

// writeTemp writes f's data to a synced temporary file beside f.Path.
func writeTemp(dir string, f File, mode os.FileMode) (name string, err error) {
	t, err := os.CreateTemp(dir, "."+filepath.Base(f.Path)+".*.tmp")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			t.Close()
			os.Remove(t.Name())
		}
	}()
	// Chmod on the open file: the mode holds whatever the umask, and the
	// data is never readable under a wider one.
	if err := t.Chmod(mode); err != nil {
		return "", err
	}
	if _, err := t.Write(f.Data); err != nil {
		return "", err
	}
	if err := t.Sync(); err != nil {
		return "", err
	}
	return t.Name(), t.Close()
}

// syncDir makes renames in dir durable; not every platform can sync a
// directory, and the renames are done either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

package run

import (
	"context"
	"path/filepath"
	"testing"

	"provision/engine/sandbox"
	"provision/engine/target/file"
	"provision/storage"
)

// A dry run predicts exactly the files a real run writes.
func TestDryRunPredictsTheRun(t *testing.T) {
	f := newFixture(t, 150, sandbox.Config{})
	o := f.opts("canary:7,wave:30%,rest")
	dry, err := DryRun(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Rows != f.rows || dry.Valid != 150 || dry.Quarantined != 1 || dry.Skipped != 1 || dry.Resume {
		t.Errorf("dry run counts: %+v", dry)
	}
	if Exists(o.Journal) {
		t.Fatal("the dry run wrote a journal")
	}

	out, err := file.Open(filepath.Join(f.dir, "import"))
	if err != nil {
		t.Fatal(err)
	}
	o.Target = out
	if res := f.run(o); res.State != StateFinished {
		t.Fatalf("run ended %s: %s", res.State, res.Reason)
	}
	files := out.Manifest().Files
	bytes := 0
	for _, e := range files {
		bytes += e.Bytes
	}
	if dry.Files != len(files) || dry.Bytes != bytes {
		t.Errorf("dry run predicted %d files of %d bytes, the run wrote %d of %d", dry.Files, dry.Bytes, len(files), bytes)
	}
	chunks, err := f.openJournal().Chunks(storage.ChunkDone)
	if err != nil {
		t.Fatal(err)
	}
	perStage := map[string]int{}
	for _, c := range chunks {
		perStage[c.Stage]++
	}
	for _, st := range dry.Stages {
		if perStage[st.Name] != st.Files {
			t.Errorf("stage %s: dry run predicted %d files, the run sent %d", st.Name, st.Files, perStage[st.Name])
		}
	}
}

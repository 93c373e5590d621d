package sandbox

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"provision/engine/sandbox/store"
)

// Buckets of the tenant's store. Indexes map connection+value to a user id
// so that duplicate checks never scan all users.
const (
	bucketMeta         = "meta"
	bucketConnections  = "connections"
	bucketUsers        = "users"
	bucketByEmail      = "idx_email"
	bucketByUsername   = "idx_username"
	bucketByPhone      = "idx_phone"
	bucketJobs         = "jobs"
	bucketActiveJobs   = "jobs_active"
	bucketJobFiles     = "job_files"
	bucketJobErrors    = "job_errors"
	bucketImportCounts = "import_counts"
)

var buckets = []string{
	bucketMeta, bucketConnections, bucketUsers, bucketByEmail, bucketByUsername, bucketByPhone,
	bucketJobs, bucketActiveJobs, bucketJobFiles, bucketJobErrors, bucketImportCounts,
}

// Keys in bucketMeta.
const (
	metaSigningKey   = "signing_key"
	metaClientSecret = "client_secret"
	metaJobSeq       = "job_seq"
	metaTokenGen     = "token_generation"
	metaUserSeq      = "user_seq"
)

// state wraps a transaction with the tenant's typed reads and writes.
type state struct{ tx store.Tx }

func getJSON[T any](tx store.Tx, bucket, key string) (*T, error) {
	b := tx.Get(bucket, key)
	if b == nil {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("%s/%s is corrupt: %w", bucket, key, err)
	}
	return v, nil
}

func putJSON(tx store.Tx, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(bucket, key, b)
}

func indexKey(connectionID, value string) string { return connectionID + "\x00" + value }

func (s state) user(id string) (*userRecord, error) {
	return getJSON[userRecord](s.tx, bucketUsers, id)
}

// userBy finds a user of a connection through one of the indexes.
func (s state) userBy(index, connectionID, value string) (*userRecord, error) {
	if value == "" {
		return nil, nil
	}
	id := s.tx.Get(index, indexKey(connectionID, value))
	if id == nil {
		return nil, nil
	}
	return s.user(string(id))
}

// putUser stores u and keeps the indexes in step with it, including when
// an update changed an indexed value.
func (s state) putUser(u *userRecord) error {
	old, err := s.user(u.UserID)
	if err != nil {
		return err
	}
	if old != nil {
		if err := s.unindex(old); err != nil {
			return err
		}
	}
	for index, value := range indexedValues(u) {
		if err := s.tx.Put(index, indexKey(u.ConnectionID, value), []byte(u.UserID)); err != nil {
			return err
		}
	}
	return putJSON(s.tx, bucketUsers, u.UserID, u)
}

func (s state) deleteUser(u *userRecord) error {
	if err := s.unindex(u); err != nil {
		return err
	}
	return s.tx.Delete(bucketUsers, u.UserID)
}

func (s state) unindex(u *userRecord) error {
	for index, value := range indexedValues(u) {
		if err := s.tx.Delete(index, indexKey(u.ConnectionID, value)); err != nil {
			return err
		}
	}
	return nil
}

func indexedValues(u *userRecord) map[string]string {
	m := map[string]string{bucketByEmail: u.Email}
	if u.Username != "" {
		m[bucketByUsername] = u.Username
	}
	if u.PhoneNumber != "" {
		m[bucketByPhone] = u.PhoneNumber
	}
	return m
}

// users returns every user (of one connection, or all when connectionID
// is empty) in the order they were inserted.
func (s state) users(connectionID string) ([]*userRecord, error) {
	var all []*userRecord
	err := s.tx.ForEach(bucketUsers, func(_ string, v []byte) error {
		u := new(userRecord)
		if err := json.Unmarshal(v, u); err != nil {
			return err
		}
		if connectionID == "" || u.ConnectionID == connectionID {
			all = append(all, u)
		}
		return nil
	})
	slices.SortFunc(all, func(a, b *userRecord) int { return cmpUint(a.Seq, b.Seq) })
	return all, err
}

func (s state) connection(id string) (*connectionRecord, error) {
	return getJSON[connectionRecord](s.tx, bucketConnections, id)
}

func (s state) connectionByName(name string) (*connectionRecord, error) {
	var found *connectionRecord
	err := s.tx.ForEach(bucketConnections, func(_ string, v []byte) error {
		c := new(connectionRecord)
		if err := json.Unmarshal(v, c); err != nil {
			return err
		}
		if c.Name == name && found == nil {
			found = c
		}
		return nil
	})
	return found, err
}

func (s state) connections() ([]*connectionRecord, error) {
	var all []*connectionRecord
	err := s.tx.ForEach(bucketConnections, func(_ string, v []byte) error {
		c := new(connectionRecord)
		if err := json.Unmarshal(v, c); err != nil {
			return err
		}
		all = append(all, c)
		return nil
	})
	return all, err
}

func (s state) putConnection(c *connectionRecord) error {
	return putJSON(s.tx, bucketConnections, c.ID, c)
}

func (s state) job(id string) (*jobRecord, error) { return getJSON[jobRecord](s.tx, bucketJobs, id) }

func (s state) putJob(j *jobRecord) error {
	if j.Done {
		if err := s.tx.Delete(bucketActiveJobs, j.ID); err != nil {
			return err
		}
	} else if err := s.tx.Put(bucketActiveJobs, j.ID, nil); err != nil {
		return err
	}
	return putJSON(s.tx, bucketJobs, j.ID, j)
}

func (s state) deleteJob(id string) error {
	for _, b := range []string{bucketJobs, bucketActiveJobs, bucketJobFiles, bucketJobErrors} {
		if err := s.tx.Delete(b, id); err != nil {
			return err
		}
	}
	return nil
}

// activeJobs returns the jobs still pending or processing, oldest first.
func (s state) activeJobs() ([]*jobRecord, error) {
	var ids []string
	if err := s.tx.ForEach(bucketActiveJobs, func(k string, _ []byte) error {
		ids = append(ids, k)
		return nil
	}); err != nil {
		return nil, err
	}
	jobs := make([]*jobRecord, 0, len(ids))
	for _, id := range ids {
		j, err := s.job(id)
		if err != nil {
			return nil, err
		}
		if j != nil {
			jobs = append(jobs, j)
		}
	}
	slices.SortFunc(jobs, func(a, b *jobRecord) int { return cmpUint(a.Seq, b.Seq) })
	return jobs, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s state) allJobs() ([]*jobRecord, error) {
	var jobs []*jobRecord
	err := s.tx.ForEach(bucketJobs, func(_ string, v []byte) error {
		j := new(jobRecord)
		if err := json.Unmarshal(v, j); err != nil {
			return err
		}
		jobs = append(jobs, j)
		return nil
	})
	return jobs, err
}

// nextSeq returns a counter from bucketMeta, incremented.
func (s state) nextSeq(key string) (uint64, error) {
	var n uint64
	if b := s.tx.Get(bucketMeta, key); len(b) == 8 {
		n = binary.BigEndian.Uint64(b)
	}
	n++
	return n, s.tx.Put(bucketMeta, key, binary.BigEndian.AppendUint64(nil, n))
}

func (s state) counter(key string) uint64 {
	if b := s.tx.Get(bucketMeta, key); len(b) == 8 {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// ImportCount says how often the tenant inserted and updated a user with
// one email through imports. A user inserted twice, even if deleted in
// between, shows Inserted 2.
type ImportCount struct {
	Inserted int `json:"inserted"`
	Updated  int `json:"updated"`
}

func (s state) importCount(email string) (ImportCount, error) {
	c, err := getJSON[ImportCount](s.tx, bucketImportCounts, email)
	if c == nil {
		return ImportCount{}, err
	}
	return *c, err
}

func (s state) countImport(email string, inserted bool) error {
	c, err := s.importCount(email)
	if err != nil {
		return err
	}
	if inserted {
		c.Inserted++
	} else {
		c.Updated++
	}
	return putJSON(s.tx, bucketImportCounts, email, c)
}

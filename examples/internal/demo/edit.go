package demo

import (
	"context"
	"fmt"

	"github.com/keysync/sync"
)

// Edit changes the record holding email in one system, as a person using
// that system would: it lists the connector, finds the first record whose
// emails (as desc reads them) include email, and writes change to it as an
// update.
func Edit(ctx context.Context, conn sync.Connector, desc System, email string,
	change sync.Item) error {
	for item, err := range conn.List(ctx) {
		if err != nil {
			return fmt.Errorf("finding %s in %s: %w", email, desc.Name, err)
		}
		for _, e := range desc.Emails(item) {
			if sync.NormalizeEmail(e) != email {
				continue
			}
			w := sync.Write{Op: sync.OpUpdate, Item: change, Target: item}
			res, err := conn.Write(ctx, []sync.Write{w})
			if err == nil {
				err = res[0].Err
			}
			if err != nil {
				return fmt.Errorf("editing %s in %s: %w", email, desc.Name, err)
			}
			return nil
		}
	}
	return fmt.Errorf("editing %s in %s: %w", email, desc.Name, sync.ErrNotFound)
}

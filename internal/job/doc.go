// Package job runs lsdvr's long work: durable jobs on River (conversions,
// downloads, periodic maintenance) and supervised processes that are not
// River jobs (a capture is one long-lived process). Both kinds appear in one
// live list and announce themselves through the job_* events.
//
// # Durable jobs
//
// A Service wraps a River client that shares the store's single SQLite write
// connection. Workers are ordinary River workers registered on the
// *river.Workers passed in Config:
//
//	workers := river.NewWorkers()
//	river.AddWorker(workers, &ConvertWorker{...})
//	svc, err := job.New(job.Config{Workers: workers}, db, bus, logger)
//
// Insert jobs with Service.InsertTx inside the transaction of the state
// change that asks for them (never a bare insert while a transaction is open:
// the write connection is shared). InsertTx publishes job_save in that same
// transaction, so the job and its announcement commit or vanish together.
//
// # Events
//
// A River middleware follows every job through its life without the workers
// doing anything: job_update when it starts running and when it completes,
// fails, is cancelled or will be retried, and job_clear when it leaves the
// live list. Jobs River inserts itself (periodic jobs) get their job_save when
// work begins. Progress reported with ReportProgress becomes job_progress,
// coalesced to at most one event per second per job; the latest value wins
// and the last one is flushed before the final job_update.
//
// # Tracked processes
//
// Service.Track registers work that River does not run, such as a capture.
// The returned *Tracked reports progress, state changes and its removal with
// the same events; Service.Cancel calls the cancel function given to Track.
//
// # Maintenance
//
// Periodic jobs run on the maintenance queue. maintenance.prune_events
// deletes events older than Config.EventRetention that no webhook delivery
// still waits for; AddPeriodic adds more (every one also runs at start), and
// RunNow runs one immediately.
package job

package main

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
)

// maxWrites bounds the API writes in flight, so that a thousand pods bound at once queue here rather
// than beyond the API server's limit on mutating requests.
const maxWrites = 64

// writeBackoff retries a failed write (a conflict, an overloaded or restarting API server) for about
// half a minute.
var writeBackoff = wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 10, Cap: 5 * time.Second}

// errGone stops a status write: the pod is being deleted, or its name is another pod's now.
var errGone = errors.New("the pod is gone")

// writeStatus sets the status of the pod KEY, running or DONE, through pods/status. The first attempt
// starts from the informer's copy; after a conflict or another failure the pod is read again.
func (p *player) writeStatus(ctx context.Context, key string, r *podRun, done bool) error {
	if !p.acquire(ctx) {
		return context.Cause(ctx)
	}
	defer p.release()
	namespace, name, _ := cache.SplitMetaNamespaceKey(key)
	pods := p.client.CoreV1().Pods(namespace)
	fresh := false
	return retry.OnError(writeBackoff, p.retriable(ctx, r), func() error {
		var pod *corev1.Pod
		var err error
		if fresh {
			pod, err = pods.Get(ctx, name, metav1.GetOptions{})
		} else {
			pod, err = p.pods.Pods(namespace).Get(name)
		}
		fresh = true
		if err != nil {
			return err
		}
		if pod.UID != r.uid || pod.DeletionTimestamp != nil {
			return errGone
		}
		pod = pod.DeepCopy()
		pod.Status = p.podStatus(pod, r, done)
		_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
}

// remove deletes POD, which has a deletion timestamp, at once: with grace period 0, as a kubelet
// confirms that a pod's containers are gone.
func (p *player) remove(ctx context.Context, pod *corev1.Pod) {
	if !p.acquire(ctx) {
		return
	}
	defer p.release()
	key := pod.Namespace + "/" + pod.Name
	options := metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0)), Preconditions: &metav1.Preconditions{UID: &pod.UID}}
	err := retry.OnError(writeBackoff, p.retriable(ctx, nil), func() error {
		return p.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, options)
	})
	// Not found: gone already. Conflict: the name is another pod's now.
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		p.errorf("%s: deleting it: %v", key, err)
		return
	}
	p.logf("%s deleted", key)
}

// report passes a failure to write to errorf, unless the pod or the run is gone, which ends the pod's
// life quietly.
func (p *player) report(ctx context.Context, what string, err error) {
	if ctx.Err() == nil && !errors.Is(err, errGone) && !apierrors.IsNotFound(err) {
		p.errorf("%s: %v", what, err)
	}
}

// retriable tells whether a failed write is worth another try: not when the pod is gone (or, with R,
// deleted), nor when CTX has ended, nor when a precondition failed.
func (p *player) retriable(ctx context.Context, r *podRun) func(error) bool {
	return func(err error) bool {
		if ctx.Err() != nil || errors.Is(err, errGone) || apierrors.IsNotFound(err) || (r == nil && apierrors.IsConflict(err)) {
			return false
		}
		if r != nil {
			select {
			case <-r.gone:
				return false
			default:
			}
		}
		return true
	}
}

// acquire takes one of the maxWrites slots, or reports false if CTX ends first.
func (p *player) acquire(ctx context.Context) bool {
	select {
	case p.writes <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *player) release() { <-p.writes }

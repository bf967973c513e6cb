package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podStatus is the status of POD in its run R: running, or DONE. The init containers completed, in
// order, the moment the others started (sidecars run with them); when done, every container has exited
// 0 and the pod's containers leave a build's termination message.
func (p *player) podStatus(pod *corev1.Pod, r *podRun, done bool) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	st.ObservedGeneration = pod.Generation
	st.HostIP, st.HostIPs = p.hostIP, []corev1.HostIP{{IP: p.hostIP}}
	st.PodIP, st.PodIPs = r.ip, []corev1.PodIP{{IP: r.ip}}
	st.StartTime = ptr(metav1.NewTime(r.started))
	now := metav1.Now()
	ready, reason := corev1.ConditionTrue, ""
	st.Phase = corev1.PodRunning
	if done {
		// As a kubelet has it: a pod that completed is no longer ready.
		ready, reason = corev1.ConditionFalse, "PodCompleted"
		st.Phase = corev1.PodSucceeded
	}
	setCondition(&st.Conditions, corev1.PodScheduled, corev1.ConditionTrue, "", now)
	setCondition(&st.Conditions, corev1.PodInitialized, corev1.ConditionTrue, "", now)
	setCondition(&st.Conditions, corev1.ContainersReady, ready, reason, now)
	setCondition(&st.Conditions, corev1.PodReady, ready, reason, now)

	st.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		switch {
		case !sidecar(c):
			st.InitContainerStatuses = append(st.InitContainerStatuses, terminated(pod, c, r.started, r.started, ""))
		case done:
			st.InitContainerStatuses = append(st.InitContainerStatuses, terminated(pod, c, r.started, r.ends, ""))
		default:
			st.InitContainerStatuses = append(st.InitContainerStatuses, running(pod, c, r.started))
		}
	}
	st.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		if done {
			st.ContainerStatuses = append(st.ContainerStatuses, terminated(pod, c, r.started, r.ends, digestMessage(pod)))
		} else {
			st.ContainerStatuses = append(st.ContainerStatuses, running(pod, c, r.started))
		}
	}
	return st
}

// running is the status of POD's container C, running and ready since SINCE.
func running(pod *corev1.Pod, c corev1.Container, since time.Time) corev1.ContainerStatus {
	s := containerStatus(pod, c)
	s.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(since)}
	s.Ready, s.Started = true, ptr(true)
	return s
}

// terminated is the status of POD's container C, which ran from FROM to TO and exited 0 leaving MESSAGE.
func terminated(pod *corev1.Pod, c corev1.Container, from, to time.Time, message string) corev1.ContainerStatus {
	s := containerStatus(pod, c)
	s.State.Terminated = &corev1.ContainerStateTerminated{
		ExitCode:    0,
		Reason:      "Completed",
		Message:     message,
		StartedAt:   metav1.NewTime(from),
		FinishedAt:  metav1.NewTime(to),
		ContainerID: s.ContainerID,
	}
	s.Started = ptr(false)
	return s
}

// containerStatus is what the status of POD's container C says in any state.
func containerStatus(pod *corev1.Pod, c corev1.Container) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name:        c.Name,
		Image:       c.Image,
		ImageID:     c.Image,
		ContainerID: fmt.Sprintf("virtual://%s-%s", pod.UID, c.Name),
	}
}

// digestMessage is the termination message of a build that pushed: the image's digest, here the sha256
// of the pod's namespace/name, so that each pod's is its own and can be checked.
func digestMessage(pod *corev1.Pod) string {
	sum := sha256.Sum256([]byte(pod.Namespace + "/" + pod.Name))
	return fmt.Sprintf(`{"digest":"sha256:%s"}`, hex.EncodeToString(sum[:]))
}

// setCondition gives the condition T of CONDS status S and REASON; its transition time is NOW if the
// status changes.
func setCondition(conds *[]corev1.PodCondition, t corev1.PodConditionType, s corev1.ConditionStatus, reason string, now metav1.Time) {
	for i := range *conds {
		c := &(*conds)[i]
		if c.Type != t {
			continue
		}
		if c.Status != s {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message = s, reason, ""
		return
	}
	*conds = append(*conds, corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: now})
}

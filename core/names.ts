// Kubernetes names and labels, and environment variable names.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why the text is not a DNS-1123 label (namespaces, build names), or undefined when it is one. */
export function dnsLabelProblem(text: string, max = 63): string | undefined {
  if (text.length === 0) return "is empty";
  if (text.length > max) return `is longer than ${max} characters`;
  if (!DNS_LABEL.test(text)) {
    return `"${text}" is not a valid name: lower-case letters, digits and '-', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why the text is not a DNS-1123 subdomain (Secret, ServiceAccount and class names), or undefined. */
export function dnsSubdomainProblem(text: string): string | undefined {
  if (text.length === 0) return "is empty";
  if (text.length > 253) return "is longer than 253 characters";
  if (!DNS_SUBDOMAIN.test(text)) {
    return `"${text}" is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why the key is not a Kubernetes label key ([prefix/]name), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    const p = dnsSubdomainProblem(prefix);
    if (p) return `label key "${key}" has an invalid prefix: ${p}`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `"${key}" is not a valid Kubernetes label key: a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally prefixed by a DNS subdomain and '/'`;
  }
  return undefined;
}

/** Why the value is not a Kubernetes label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return `"${value}" is not a valid Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) return `"${name}" is not a valid environment variable name: letters, digits and '_', not starting with a digit`;
  return undefined;
}

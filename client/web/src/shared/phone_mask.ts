// The callback form's phone mask, "(###) ###-####": what the field shows as a person types.
// The server accepts any common US format, so the mask is a convenience, never a check.

// Formats what was typed so far. Keeps at most ten digits of the national number, dropping a
// leading country code 1 ("+1 305 ..." pasted in), and leaves an empty value empty.
export function maskPhone(typed: string): string {
  let digits = typed.replace(/\D/g, "");
  if (digits.length > 10 && digits.startsWith("1")) digits = digits.slice(1);
  digits = digits.slice(0, 10);
  if (digits.length === 0) return "";
  if (digits.length <= 3) return `(${digits}`;
  if (digits.length <= 6) return `(${digits.slice(0, 3)}) ${digits.slice(3)}`;
  return `(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`;
}

// What a mail is and what sends one: the interface every transport implements (the
// development mailer in mailer.ts, SMTP in smtp.ts), in a module of its own so transports
// and the mailer that picks one do not import each other.
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** What the mail is for, e.g. "email_verification", so tests and logs can tell them apart. */
  kind: string;
  /** The action link in the mail, if any. */
  link?: string;
}

export interface Mailer {
  /** A short name for logs and the startup line: "smtp", "development". */
  readonly name?: string;
  send(message: MailMessage): Promise<void>;
}

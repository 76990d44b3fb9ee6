// A problem with the image or the request (not a bug): the CLI shows it as a user error.

export class VigilImageError extends Error {
  override readonly name = "VigilImageError";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Ballast events in a transaction's logs: all of them (`decodeEvents`) or one kind, typed (`eventsNamed`). */
import { BorshCoder, EventParser, convertIdlToCamelCase } from "@anchor-lang/core";
import { BallastEvents, EventName, IDL, PROGRAM_ID } from "./program";

/** Every ballast event in the logs of one transaction, named and shaped as `Program` names them
 * (camelCase: `depositEvent`, `rebalanceEvent`, with camelCase fields). */
export function decodeEvents(logs: string[]): { name: string; data: any }[] {
  const parser = new EventParser(PROGRAM_ID, new BorshCoder(convertIdlToCamelCase(IDL as any)));
  return [...parser.parseLogs(logs)];
}

/** The events named `name` in the logs of one transaction, typed (e.g. `eventsNamed(logs,
 * "withdrawSettledEvent")[0].amountReceived`). */
export function eventsNamed<E extends EventName>(logs: string[], name: E): BallastEvents[E][] {
  return decodeEvents(logs).filter((e) => e.name === name).map((e) => e.data as BallastEvents[E]);
}

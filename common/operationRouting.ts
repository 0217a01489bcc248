/*
 * How the gateway routes each operation of the API it imports. The OpenAPI document marks every
 * operation with one of these (ROUTING_EXTENSION); the policy renders its request classification from
 * those marks, so adding an operation to the document is the only step to route it. Imports nothing.
 */

export const OPERATION_ROUTINGS = ["path", "body", "response-create", "response", "gateway"] as const;

/**
 * - `path`: the deployment is the `deployment-id` path parameter (the classic routes);
 * - `body`: the deployment is the JSON body's `model` (the v1 routes);
 * - `response-create`: like `body`, but it creates a stored response, and one with
 *   `previous_response_id` must go to the account that stores that response;
 * - `response`: names a stored response in the path; goes to the account that stores it;
 * - `gateway`: answered by the gateway itself.
 */
export type OperationRouting = (typeof OPERATION_ROUTINGS)[number];

/** The OpenAPI extension that carries an operation's routing; removed before the document is imported. */
export const ROUTING_EXTENSION = "x-openai-apim-routing";

/** An operation as the policy sees it. */
export interface RoutedOperation {
  method: string;
  /** The path as imported, which APIM gives policies as `context.Operation.UrlTemplate`. */
  path: string;
  routing: OperationRouting;
}

import * as opentelemetry from '@apollo/gateway/dist/utilities/opentelemetry';
import { startTestStack } from '../support/test-stack';

describe('no telemetry leaves the process', () => {
  it("does not start @apollo/gateway's metrics exporter (which also probes cloud metadata endpoints)", async () => {
    const exporter = jest.spyOn(opentelemetry, 'createDataCollectionExporter');
    const env = await startTestStack();
    try {
      expect(exporter).not.toHaveBeenCalled();
    } finally {
      exporter.mockRestore();
      await env.stop();
    }
  });
});

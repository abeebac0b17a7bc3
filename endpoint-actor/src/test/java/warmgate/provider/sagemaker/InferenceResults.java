package warmgate.provider.sagemaker;

/** SageMaker Asynchronous Inference's SNS messages as AWS documents them, for the tests of whoever reads them. */
public final class InferenceResults {
  // The success and error notifications of "Check prediction results",
  // https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-check-predictions.html, with the doc's
  // placeholders (<bucket>, <example-endpoint>, ...) filled with names that make them valid S3 URIs.
  public static final String SUCCESS = """
      {
         "awsRegion":"us-east-1",
         "eventTime":"2022-01-25T22:46:00.608Z",
         "receivedTime":"2022-01-25T22:46:00.455Z",
         "invocationStatus":"Completed",
         "requestParameters":{
            "contentType":"text/csv",
            "endpointName":"example-endpoint",
            "inputLocation":"s3://bucket/input-directory/input-data.csv"
         },
         "responseParameters":{
            "contentType":"text/csv; charset=utf-8",
            "outputLocation":"s3://bucket/output_directory/prediction.out"
         },
         "inferenceId":"11111111-2222-3333-4444-555555555555",
         "eventVersion":"1.0",
         "eventSource":"aws:sagemaker",
         "eventName":"InferenceResult"
      }""";

  public static final String ERROR = """
      {
         "awsRegion":"us-east-1",
         "eventTime":"2022-01-25T22:46:00.608Z",
         "receivedTime":"2022-01-25T22:46:00.455Z",
         "invocationStatus":"Failed",
         "failureReason":"ClientError: Received server error (500) from model. See the SageMaker Endpoint logs in \
      your account for more information.",
         "requestParameters":{
            "endpointName":"example-endpoint",
            "inputLocation":"s3://bucket/input-directory/input-data.csv"
         },
         "inferenceId":"11111111-2222-3333-4444-555555555555",
         "eventVersion":"1.0",
         "eventSource":"aws:sagemaker",
         "eventName":"InferenceResult"
      }""";

  private InferenceResults() {}
}
